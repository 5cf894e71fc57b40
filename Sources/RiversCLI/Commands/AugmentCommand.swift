// `rivers augment`: the classifier dataset balanced by category, label and site with generated
// images and image-to-image variations.
import Foundation
import Rivers

/// The raw dataset and models augment reads: given on the command line only.
struct AugmentInputs: SettingGroup {
    var inDir = ""
    var weightPaths: [String] = []

    static let name = "command line"
    static let settings: [Setting<AugmentInputs>] = [
        Setting("in_dir", "raw dataset with label folders 1 .. 6", \.inDir, placeholder: "DIR", range: .nonEmpty),
        Setting(
            "weight_paths", "run directories of rivers train, one per label that needs images (any order)",
            \.weightPaths, placeholder: "RUN", range: .nonEmptyPaths),
    ]
}

let augmentCommand = Command(
    name: "augment",
    abstract: "Balance the classifier dataset by category, label and site with generated images.",
    summary: """
        Balances a raw dataset (<in_dir>/1 .. /6) for the classifier: originals are copied to <out_dir>/<label>/,
        and the smaller category (1: labels 1-3, 2: labels 4-6) gets the difference in generated images, its
        labels with the fewest images first, so both categories end equal. Within a label, images are pure
        generations (site S0) or variations of real images from the least represented sites (--strength,
        --probs). Models are matched to labels by the label each run recorded. A rerun completes what is missing.
        Generated images are written at the raw photos' size: a model whose images would be enlarged more than
        2x (in height or width) is refused unless --allow_upscale is given.
        """,
    options: AugmentInputs.options(required: ["in_dir"]) + commonOptions(["config"]) + AugmentConfig.options()
        + commonOptions(
            ["threads", "dry_run", "quiet"],
            dryRun:
                "print the plan (per category, label and site) and the models; write nothing; fails as the run would"),
    rankAware: true,
    run: runAugment
)

func runAugment(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(AugmentInputs())
    var base = try args.values["config"].map { try RiversConfig.load($0[0]).augment } ?? AugmentConfig()
    // `--strength 1` alone: the original's behavior, pure generations only.
    if args.has("strength") && !args.has("probs") {
        guard args.values["strength"]!.count == 1 else {
            throw RiversError.setting(
                section: AugmentConfig.name, key: "strength",
                reason: "with \(args.values["strength"]!.count) values needs --probs with as many shares", file: nil)
        }
        base.probs = [1]
    }
    let settings = try args.resolve(base)
    let inDir = inputs.inDir, outDir = settings.outDir
    try AugmentRun.checkOutside(outDir: outDir, inDir: inDir)
    let scan = try AugmentRun.scan(inDir: inDir)
    for skipped in scan.ignored { warn("\(skipped)") }
    let models = try AugmentRun.models(inputs.weightPaths)
    let plan = try Augment.plan(images: scan.images, models: models, options: settings)
    // Before any work, and under --dry_run too: the size images are written at and how much each
    // model's are enlarged to it, the models' weights, and a folder augmented with another plan.
    guard let size = AugmentRun.outputSize(scan.images) else {
        throw RiversError.file(path: inDir, reason: "has no readable image to take the output size from")
    }
    let upscaling = try Augment.upscaling(plan, outputSize: size, allow: settings.allowUpscale)
    try AugmentRun.checkModels(plan, checkpoint: settings.generation.checkpoint)
    try AugmentRun.checkRecord(settings, models: plan.models, outDir: outDir, write: !options.dryRun)
    if options.dryRun { print(augmentTable(plan)) }
    for label in plan.labels where label.model != nil {
        let sizes = upscaling.first { $0.label == label.label }.map {
            " (\($0.modelText) images\($0.factor > 1 ? ", upscaled \($0.factorText)" : "") to \($0.outputText))"
        }
        print("label \(label.label): \(counted(label.items.count, "image")) from \(label.model!)\(sizes ?? "")")
    }
    for u in upscaling where u.factor > Augment.largestUpscale {
        note(
            "--allow_upscale: label \(u.label)'s \(u.modelText) images are upscaled \(u.factorText) to \(u.outputText), blurrier than the photos beside them; a classifier can learn 'blurry means synthetic'"
        )
    }
    for (label, run) in models.sorted(by: { $0.key < $1.key }) where plan.labels[label - 1].items.isEmpty {
        print("label \(label): \(run) is not needed (the label gets no generated images)")
    }
    if options.dryRun {
        print(
            "dry run: \(counted(plan.items.count, "image")) would be generated and \(counted(plan.labels.reduce(0) { $0 + $1.originals.count }, "original")) copied under \(outDir); nothing was written."
        )
        return 0
    }
    let comm = Job.world
    if comm.isRoot { try FileOps.makeDirectory(outDir) }
    Interrupt.install()
    // Every rank has the same plan; each makes its share of each label's items, dated by rank 0.
    let date = String(decoding: comm.broadcast(Data(utcDate(Date(), "MMddyy").utf8), root: 0), as: UTF8.self)
    let mine = plan.labels.reduce(0) { $0 + AugmentRun.share($1.items, comm).count }
    // Images, each moving by its share at every sampler step of its batch (rate and ETA per step).
    let bar = ProgressBar(title: "augment", total: mine, enabled: !options.quiet)
    var events = AugmentEvents()
    events.progress = { bar.advance(fraction: $0) }
    events.shouldStop = { Interrupt.requested }
    let report = try AugmentRun.execute(
        plan, outDir: outDir, outputSize: size, generation: settings.generation, date: date, comm: comm,
        events: events
    ).combined(over: comm)
    bar.finish()
    print(augmentTable(plan))
    print(
        "\(counted(report.copied, "original")) copied, \(counted(report.generated, "image")) generated at \(size.width)x\(size.height), \(report.present) already present, \(report.failures.count) failed."
    )
    for f in report.failures { print("  failed: \(f)") }
    if report.interrupted {
        print("interrupted: every file written is complete; run the same command again to generate the rest.")
        return Interrupt.status
    }
    return report.failures.isEmpty ? 0 : 1
}

/// Per category, label and site: before, to generate (variations, pure) and after.
func augmentTable(_ plan: AugmentPlan) -> String {
    var rows = [["category", "label", "site", "before", "generated", "after"]]
    for c in [1, 2] {
        for label in plan.labels where category(ofLabel: label.label) == c {
            for site in label.sites {
                rows.append([
                    String(c), String(label.label), site.site, String(site.before), String(site.generated),
                    String(site.after),
                ])
            }
            rows.append([
                String(c), String(label.label), "all", String(label.before), String(label.items.count),
                String(label.after),
            ])
        }
        rows.append([
            String(c), "all", "", String(plan.count(category: c, after: false)),
            String(plan.count(category: c, after: true) - plan.count(category: c, after: false)),
            String(plan.count(category: c, after: true)),
        ])
    }
    return textTable(rows, rightAligned: [3, 4, 5])
}
