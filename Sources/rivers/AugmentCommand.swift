// `rivers augment`: the classifier dataset balanced by category, label and site with generated
// images and image-to-image variations.
import Foundation
import Rivers

let augmentCommand = Command(
    name: "augment",
    summary: """
    Balances a raw dataset (<in_dir>/1 .. /6) for the classifier: originals are copied to <out_dir>/<label>/,
    and the smaller category (1: labels 1-3, 2: labels 4-6) gets the difference in generated images, its
    labels with the fewest images first, so both categories end equal. Within a label, images are pure
    generations (site S0) or variations of real images from the least represented sites (--strength,
    --probs). Models are matched to labels by the label each run recorded. A rerun completes what is missing.
    """,
    options: [
        Option(name: "in_dir", help: "raw dataset with label folders 1 .. 6", value: "DIR", required: true),
        Option(name: "weight_paths", help: "run directories of rivers train, one per label that needs images (any order)", value: "RUN", arity: .many),
        Option(name: "out_dir", help: "where the balanced dataset is written", value: "DIR", defaultValue: "balanced_data"),
    ] + generationOptions(steps: "50", eta: "0", seedHelp: "seed of the plan's choices and of every image's noise") + [
        Option(name: "strength", help: "strengths of generated images: 1 pure generation, below 1 a variation of a real image", value: "S", defaultValue: "1 0.6", arity: .many),
        Option(name: "probs", help: "share of each strength", value: "P", defaultValue: "0.5 0.5", arity: .many),
        threadsOption,
        Option(name: "dry_run", help: "print the plan (per category, label and site) and the models; write nothing", arity: .flag),
        quietOption,
    ],
    run: runAugment
)

func runAugment(_ args: ParsedArguments) throws -> Int32 {
    try applyThreads(args)
    func doubles(_ name: String) throws -> [Double] {
        let words = args.values[name] ?? (args.string(name) ?? "").split(separator: " ").map(String.init)
        return try words.map { w in
            guard let v = Double(w) else { throw UsageError(description: "--\(name) takes numbers, got '\(w)'") }
            return v
        }
    }
    let generation = try GenerationArguments(args)
    let seed = generation.seed
    var strengths = try doubles("strength"), probs = try doubles("probs")
    // `--strength 1` alone: the original's behaviour, pure generations only.
    if args.has("strength") && !args.has("probs") && strengths.count == 1 { probs = [1] }
    if args.has("strength") && !args.has("probs") && strengths.count != 1 {
        throw UsageError(description: "--strength with \(strengths.count) values needs --probs with as many shares")
    }
    if strengths.isEmpty { strengths = [1] }
    let options = AugmentOptions(strengths: strengths, probs: probs, seed: seed)
    try options.validate()
    let inDir = args.string("in_dir")!, outDir = args.string("out_dir")!
    guard !outDir.isEmpty else { throw UsageError(description: "--out_dir must not be empty") }
    if FileOps.isSameOrInside(outDir, inDir) || FileOps.isSameOrInside(inDir, outDir) {
        throw UsageError(description: "--out_dir \(outDir) and --in_dir \(inDir) must not contain each other: the input is never modified")
    }
    let scan = try AugmentRun.scan(inDir: inDir)
    for skipped in scan.ignored { warn("\(skipped)") }
    let models = try AugmentRun.models(args.values["weight_paths"] ?? [])
    let plan = try Augment.plan(images: scan.images, models: models, options: options)
    if args.has("dry_run") { print(augmentTable(plan)) }
    for label in plan.labels where label.model != nil {
        print("label \(label.label): \(label.items.count) images from \(label.model!)")
    }
    for (label, run) in models.sorted(by: { $0.key < $1.key }) where plan.labels[label - 1].items.isEmpty {
        print("label \(label): \(run) is not needed (the label gets no generated images)")
    }
    if args.has("dry_run") {
        print("dry run: \(plan.items.count) images would be generated and \(plan.labels.reduce(0) { $0 + $1.originals.count }) originals copied under \(outDir); nothing was written.")
        return 0
    }
    guard let size = AugmentRun.outputSize(scan.images) else { throw RiversError.file(path: inDir, reason: "has no readable image to take the output size from") }
    let comm = Job.world
    if comm.isRoot { try FileOps.makeDirectory(outDir) }
    Interrupt.install()
    // Every rank has the same plan; each makes its share of each label's items, dated by rank 0.
    let date = String(decoding: comm.broadcast(Data(utcDate(Date(), "MMddyy").utf8), root: 0), as: UTF8.self)
    let mine = plan.labels.reduce(0) { $0 + AugmentRun.share($1.items, comm).count }
    let bar = ProgressBar(title: "augment", total: mine, enabled: !args.has("quiet"))
    let report = try AugmentRun.execute(plan, outDir: outDir, outputSize: size, steps: generation.steps, eta: generation.eta, seed: seed,
                                        checkpoint: generation.checkpoint, batchSize: generation.batch, date: date, comm: comm, progress: bar,
                                        shouldStop: { Interrupt.requested }).combined(over: comm)
    bar.finish()
    print(augmentTable(plan))
    print("\(report.copied) originals copied, \(report.generated) images generated at \(size.width)x\(size.height), \(report.present) already present, \(report.failures.count) failed.")
    for f in report.failures { print("  failed: \(f)") }
    if report.interrupted {
        print("interrupted: every file written is complete; run the same command again to generate the rest.")
        return 130
    }
    return report.failures.isEmpty ? 0 : 1
}

/// Per category, label and site: before, to generate (variations, pure) and after.
func augmentTable(_ plan: AugmentPlan) -> String {
    var rows = [["category", "label", "site", "before", "generated", "after"]]
    for c in [1, 2] {
        for label in plan.labels where category(ofLabel: label.label) == c {
            for site in label.sites {
                rows.append([String(c), String(label.label), site.site, String(site.before), String(site.generated), String(site.after)])
            }
            rows.append([String(c), String(label.label), "all", String(label.before), String(label.items.count), String(label.after)])
        }
        rows.append([String(c), "all", "", String(plan.count(category: c, after: false)), String(plan.count(category: c, after: true) - plan.count(category: c, after: false)),
                     String(plan.count(category: c, after: true))])
    }
    return textTable(rows)
}
