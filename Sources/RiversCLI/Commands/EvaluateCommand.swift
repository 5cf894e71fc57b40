// `rivers evaluate`: does a training set of generated images make the classifier better on real
// photos it has never seen? The same classifier trained on each set, tested on held-out photos.
import Foundation
import Rivers

/// The folders evaluate reads: given on the command line only.
struct EvaluateInputs: SettingGroup {
    var testDir = ""
    var trainDirs: [String] = []
    var names: [String]? = nil

    static let name = "command line"
    static let settings: [Setting<EvaluateInputs>] = [
        Setting(
            "test_dir", "held-out real photos (label folders 1 .. 6; rivers split's DIR/test)", \.testDir,
            placeholder: "DIR", range: .nonEmpty),
        Setting(
            "train_dirs",
            "training sets (arms), each with label folders 1 .. 6 or L1 .. L6; the first is the reference (real photos)",
            \.trainDirs, placeholder: "DIR", range: .nonEmptyPaths),
        Setting("names", "a short name per training set (default: the folders' names)", \.names, placeholder: "NAME"),
    ]
}

let evaluateCommand = Command(
    name: "evaluate",
    abstract: "Measure whether a training set (augmented, generated) makes the classifier better on held-out photos.",
    summary: """
        Trains the same small CNN on each training set with the same seeds and optimizer steps, tests
        every one on the same held-out real photos, and reports for 6 labels and 2 categories: accuracy, balanced
        accuracy, macro-F1, per-label recall; the mean and 95% interval over seeds; each set against the first
        (paired over seeds and by a bootstrap over test photos) with a verdict: better, worse, or no detectable
        difference. A label-shuffled control must score at chance or the run stops. Per label, the Frechet distance
        of generated images to the test photos in the classifier's features. A training file that is an exact
        copy of a test photo (its bytes or its decoded pixels) or named after one is refused; a flipped or
        re-encoded copy is not recognised, so split first and build every training set from the train side.
        """,
    options: EvaluateInputs.options(required: ["test_dir", "train_dirs"]) + commonOptions(["config"])
        + EvaluateConfig.options()
        + commonOptions(
            ["threads", "dry_run", "quiet"],
            dryRun: "print the sets, their counts and the time (from one measured step); train nothing, write nothing"),
    run: runEvaluate
)

func runEvaluate(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(EvaluateInputs())
    let settings = try section(args, \.evaluate)
    try checkEvaluationOut(settings.out, inputs: [inputs.testDir] + inputs.trainDirs)
    let plan = try EvaluatePlan.make(
        config: settings, testDir: inputs.testDir, trainDirs: inputs.trainDirs, names: inputs.names)
    for skipped in plan.test.skipped + plan.arms.flatMap(\.files.skipped) { warn("\(skipped)") }
    for problem in plan.warnings { warn(problem) }
    print(evaluatePlanTable(plan))
    try plan.checkMemory()
    let seconds = try EvaluatePlan.measureStep(settings)
    let estimate = plan.estimatedSeconds(secondsPerStep: seconds)
    print(
        "\(counted(plan.runs, "classifier")) of \(counted(settings.steps, "step", thousands: true)) (\(plan.arms.count) training \(plan.arms.count == 1 ? "set" : "sets") x \(counted(settings.seeds, "seed")), and the shuffled control), \(String(format: "%.3f", seconds)) s a step: about \(ProgressBar.clock(estimate))"
    )
    if options.dryRun {
        print("dry run: nothing trained, nothing written (the results would go to \(settings.out)).")
        return 0
    }
    Interrupt.install()
    let bar = ProgressBar(title: "evaluate", total: plan.totalSteps, unit: "step", enabled: !options.quiet)
    guard
        let result = try EvaluateRun(plan: plan, say: { print($0) }).execute(
            progress: bar, shouldStop: { Interrupt.requested })
    else {
        bar.finish()
        print("interrupted: nothing was written (an evaluation is short; run it again).")
        return Interrupt.status
    }
    print(evaluationReport(result))
    try FileOps.writeNew(try evaluationJSON(result), to: settings.out)
    print("results written to \(settings.out)")
    return 0
}

/// The results as pretty, sorted JSON.
func evaluationJSON(_ result: EvaluationResult) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(result)
}

/// Refuses a results file that exists (or is a folder), whose folder is missing or not writable,
/// or that would land inside the test folder or a training set (the inputs are never written).
func checkEvaluationOut(_ out: String, inputs: [String]) throws {
    if FileOps.isDirectory(out) {
        throw RiversError.file(path: out, reason: "is a folder; --out names the results file to write")
    }
    if FileManager.default.fileExists(atPath: out) {
        throw RiversError.file(
            path: out, reason: "already exists; results are never overwritten (choose another --out)")
    }
    let parent = FileOps.parent(out).isEmpty ? "." : FileOps.parent(out)
    guard FileOps.isDirectory(parent) else {
        throw RiversError.file(
            path: parent, reason: "does not exist or is not a folder (the folder of --out must exist)")
    }
    guard access(parent, W_OK) == 0 else {
        throw RiversError.file(path: parent, reason: "cannot be written (the folder of --out)")
    }
    for input in inputs where FileOps.isSameOrInside(out, input) {
        throw RiversError.setting(
            section: "evaluate", key: "out",
            reason: "\(out) is inside \(input), an input of the evaluation: write the results elsewhere", file: nil)
    }
}

/// Per training set and the test folder: images per label, total, generated.
func evaluatePlanTable(_ plan: EvaluatePlan) -> String {
    var rows = [["set", "1", "2", "3", "4", "5", "6", "total", "generated", "folder"]]
    for arm in plan.arms {
        rows.append(
            [arm.name] + arm.files.counts.map(String.init) + [
                String(arm.files.files.count), String(arm.generated), arm.files.dir,
            ])
    }
    rows.append(["test"] + plan.test.counts.map(String.init) + [String(plan.test.files.count), "", plan.test.dir])
    return textTable(rows, rightAligned: Set(1...8))
}

/// The results as the terminal shows them: the table, the verdicts, recall per label, CAS, distances.
func evaluationReport(_ r: EvaluationResult) -> String {
    let seeds = r.settings.seeds
    var lines: [String] = [""]
    lines.append(
        "held-out test photos: \(r.testCounts.reduce(0, +)) (\(r.testCounts.enumerated().map { "label \($0.offset + 1): \($0.element)" }.joined(separator: ", "))); \(counted(seeds, "seed")), \(counted(r.settings.steps, "step", thousands: true)) each; mean ± 95% interval over seeds, in %"
    )
    var rows = [
        [
            "training set", "images", "generated", "balanced acc.", "accuracy", "macro-F1", "2-cat bal. acc.",
            "train acc.",
        ]
    ]
    for a in r.arms {
        rows.append([
            a.name, String(a.counts.reduce(0, +)), String(a.generated), percentText(a.balancedAccuracy),
            percentText(a.accuracy), percentText(a.macroF1), percentText(a.categoryBalancedAccuracy),
            percentText(a.trainAccuracy),
        ])
    }
    lines.append(textTable(rows, rightAligned: Set(1...7)))
    lines.append(
        "control (labels shuffled): balanced accuracy \(percent(r.control.balancedAccuracy)), chance band \(percent(r.control.low)) to \(percent(r.control.high)): \(r.control.passed ? "at chance" : "NOT at chance")"
    )
    lines.append("")
    lines.append("against '\(r.arms[0].name)' (paired: same seeds, same test photos; difference in balanced accuracy):")
    for a in r.arms.dropFirst() {
        for (task, c) in [("6 labels", a.versusReference), ("2 categories", a.categoryVersusReference)] {
            guard let c else { continue }
            lines.append(
                "  \(a.name), \(task): \(c.summary): \(c.verdict.rawValue)"
            )
        }
    }
    if let cas = r.casArm {
        let ratio = cas.balancedAccuracy.mean / max(r.arms[0].balancedAccuracy.mean, 1e-9)
        lines.append(
            "Classification Accuracy Score ('\(cas.name)', generated images only): balanced accuracy \(percent(cas.balancedAccuracy.mean)), \(String(format: "%.2f", ratio)) of '\(r.arms[0].name)'"
        )
    }
    lines.append("")
    lines.append("recall per label (mean over seeds, %), test photos per label in the header:")
    var recallRows = [["training set"] + (1...6).map { "\($0) (\(r.testCounts[$0 - 1]))" }]
    for a in r.arms {
        recallRows.append([a.name] + a.recall.map { $0.map { String(format: "%.1f", 100 * $0) } ?? "-" })
    }
    lines.append(textTable(recallRows, rightAligned: Set(1...6)))
    if !r.distances.isEmpty {
        lines.append("")
        lines.append(
            "Frechet distance to the test photos in the classifier's features ('\(r.arms[0].name)', seed 1); real train is the floor; compare within this table only:"
        )
        var fd = [["label", "images", "n", "FD", "KID"]]
        for d in r.distances {
            fd.append([
                String(d.label), d.kind, String(d.count), d.frechet.map { String(format: "%.2f", $0) } ?? "-",
                d.kid.map { String(format: "%.3f", $0) } ?? "-",
            ])
        }
        lines.append(textTable(fd, rightAligned: [2, 3, 4]))
    }
    lines.append("")
    lines.append("verdict: " + r.verdict)
    return lines.joined(separator: "\n")
}
