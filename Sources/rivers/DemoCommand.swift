// `rivers demo`: the whole pipeline on built-in synthetic data, one printed command at a time,
// ending with report.html.
import Foundation
import Rivers

let demoCommand = Command(
    name: "demo",
    summary: """
    Runs the whole pipeline on built-in synthetic stream photos, into a new folder: synthesize -> balance ->
    train (one small model per label) -> infer -> augment -> report. Each step is the rivers command it
    prints, so the demo shows how to use them. About 10 to 11 minutes on 2 cores; --quick takes seconds (a check
    that everything runs, not a trained model). Ends with report.html and the label-measure table.
    """,
    options: [
        Option(name: "out_dir", help: "a new or empty folder for everything the demo makes", value: "DIR", defaultValue: "demo"),
        Option(name: "seed", help: "seed of the scenes, the training and the generated images", value: "N", defaultValue: "42"),
        Option(name: "quick", help: "tiny models and few steps: the pipeline end to end in seconds", arity: .flag),
        Option(name: "steps", help: "optimiser steps per label (default: 900, or 24 with --quick); more steps, better images", value: "N"),
        threadsOption,
        Option(name: "quiet", help: "no progress bars (the commands and their results are still printed)", arity: .flag),
    ],
    run: runDemo
)

func runDemo(_ args: ParsedArguments) throws -> Int32 {
    try applyThreads(args)
    guard let seed = UInt64(args.string("seed") ?? "") else { throw UsageError(description: "--seed must be a whole number from 0 to \(UInt64.max)") }
    let out = args.string("out_dir") ?? "demo"
    try checkDemoFolder(out)
    let steps = try args.string("steps").map { _ in try args.int("steps") }
    if let steps, !(1...1_000_000).contains(steps) { throw UsageError(description: "--steps must be 1 to 1000000, got \(steps)") }
    let plan = DemoPlan(outDir: out, seed: seed, quick: args.has("quick"), threads: Parallel.threadCount, steps: steps)
    var demo = DemoRun(plan: plan, quiet: args.has("quiet"))
    Interrupt.install()
    return try demo.run()
}

/// The demo writes only into a folder that is new or empty, so it never mixes with or replaces anything.
func checkDemoFolder(_ out: String) throws {
    guard !out.isEmpty else { throw UsageError(description: "--out_dir must not be empty") }
    guard FileManager.default.fileExists(atPath: out) else { return }
    guard FileOps.isDirectory(out) else { throw RiversError.file(path: out, reason: "exists and is not a folder; choose another --out_dir") }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
    if !names.isEmpty {
        throw RiversError.file(path: out, reason: "exists and is not empty; the demo writes only into a new or empty folder (remove it, or choose another --out_dir)")
    }
}

/// The demo's progress: which of its commands runs, the time so far and an estimate of the rest.
struct DemoRun {
    let plan: DemoPlan
    let quiet: Bool
    let started = Date()
    /// Estimated seconds of the commands still to run, once training is planned; the estimate
    /// is scaled by how the finished commands compared with theirs.
    var remaining: [Double] = []
    var estimatedDone = 0.0, actualDone = 0.0
    let stages = ["synthesize", "balance", "train", "infer", "augment", "report"]

    init(plan: DemoPlan, quiet: Bool) {
        self.plan = plan
        self.quiet = quiet
    }

    mutating func run() throws -> Int32 {
        print("rivers demo: the whole pipeline on synthetic stream photos, into \(plan.outDir)\(plan.quick ? " (quick: tiny models, a check that everything runs)" : "")")
        var status = try step(plan.synthesizeArguments, stage: "synthesize", what: "40 photos of 6 camera sites at flow labels 1-6")
        if status != 0 { return stop(status, "synthesize") }
        status = try step(plan.balanceArguments, stage: "balance", what: "rotations and flips even out the sites within each label")
        if status != 0 { return stop(status, "balance") }

        let folders = try labelFolders(plan.diffusionDir)
        var trainSteps: [(label: Int, words: [String], seconds: Double)] = []
        var secondsPerStep = 0.0
        for (label, path) in folders {
            let images = try TrainingImages.scan(path).images.count
            let config = plan.trainConfig(images: images)
            if secondsPerStep == 0 {
                secondsPerStep = (try? TrainingPlan(config: config, label: label, inDir: path, images: images).measureStep().seconds) ?? 0.1
            }
            let perImageStep = secondsPerStep / Double(3 * config.batchSize)
            let generation = Double((plan.gridsPerRun + 1) * config.imagesToGenerate * config.generateDiffusionSteps) * perImageStep
            trainSteps.append((label, plan.trainArguments(folder: path, images: images),
                               Double(config.numEpochs * max(images / config.batchSize, 1)) * secondsPerStep + generation))
        }
        let perImageStep = secondsPerStep / Double(3 * plan.train.batchSize)
        let inferSeconds = Double(plan.inferImages * plan.inferSteps) * perImageStep
        remaining = trainSteps.map(\.seconds) + Array(repeating: inferSeconds, count: folders.count)
            + [Double(6 * plan.augmentSteps) * perImageStep * 4, 2]
        for (i, t) in trainSteps.enumerated() {
            status = try step(t.words, stage: "train", what: "label \(t.label) (\(i + 1) of \(trainSteps.count))")
            if status != 0 { return stop(status, "train, label \(t.label)") }
        }

        let runs = try RunSummary.expand([plan.modelsDir]).map { ($0, try RunDirectory($0).record().label) }.sorted { $0.1 < $1.1 }
        for (i, (run, label)) in runs.enumerated() {
            status = try step(plan.inferArguments(run: run), stage: "infer", what: "label \(label) (\(i + 1) of \(runs.count))")
            if status != 0 { return stop(status, "infer, label \(label)") }
        }
        status = try step(plan.augmentArguments(runs: runs.map(\.0)), stage: "augment", what: "generated images even out the two categories")
        if status != 0 { return stop(status, "augment") }
        status = try step(plan.reportArguments, stage: "report", what: "one page to look at")
        if status != 0 { return stop(status, "report") }

        print("demo finished in \(ProgressBar.clock(Date().timeIntervalSince(started))); open \(plan.reportPath) in a browser")
        return 0
    }

    /// Prints the overall progress line and the command, then runs it as `rivers` would.
    mutating func step(_ words: [String], stage: String, what: String) throws -> Int32 {
        let elapsed = Date().timeIntervalSince(started)
        var line = "\n== demo \(stages.firstIndex(of: stage)! + 1)/\(stages.count) \(stage): \(what) · \(ProgressBar.clock(elapsed)) elapsed"
        if !remaining.isEmpty {
            let scale = estimatedDone > 0 ? actualDone / estimatedDone : 1
            line += " · about \(ProgressBar.clock(remaining.reduce(0, +) * scale)) left"
        }
        print(line)
        print("$ " + DemoPlan.shellLine(words))
        fflush(stdout)
        guard let command = [synthesizeCommand, balanceCommand, trainCommand, inferCommand, augmentCommand, reportCommand]
            .first(where: { $0.name == words[0] }) else { throw UsageError(description: "the demo has no step '\(words[0])'") }
        let commandStarted = Date()
        let status = try command.run(try command.parse(Array(words.dropFirst()) + (quiet && words[0] != "synthesize" ? ["--quiet"] : [])))
        fflush(stdout)
        if !remaining.isEmpty {
            estimatedDone += remaining.removeFirst()
            actualDone += Date().timeIntervalSince(commandStarted)
        }
        return Interrupt.requested && status == 0 ? 130 : status
    }

    func stop(_ status: Int32, _ stage: String) -> Int32 {
        if status == 130 {
            print("demo interrupted during \(stage); what was made so far is in \(plan.outDir) (a new demo needs a new or empty folder)")
        } else {
            FileHandle.standardError.write("rivers: error: the demo stopped: \(stage) failed (status \(status)); see above\n".data(using: .utf8)!)
        }
        return status
    }
}
