// `rivers infer`: images from a trained run's EMA weights, a contact sheet, and the
// memorization check against the run's training images.
import Foundation
import Rivers

/// The run infer reads and where it writes: given on the command line only.
struct InferInputs: SettingGroup {
    var modelDir = ""
    var outDir: String? = nil
    var noMemorizationCheck = false

    static let name = "command line"
    static let settings: [Setting<InferInputs>] = [
        Setting("model_dir", "the run directory of rivers train", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting(
            "out_dir",
            "where the images go (default: RUN/generated_images); the sheets go to sheets/ beside it (RUN/sheets)",
            \.outDir, placeholder: "DIR",
            range: .nonEmpty),
        Setting(
            "no_memorization_check", "skip the comparison with the training images", \.noMemorizationCheck, flag: true),
    ]
}

let inferCommand = Command(
    name: "infer",
    abstract: "Generate images with a trained run's EMA weights.",
    summary: """
        Generates images with the EMA weights of a trained run (configuration and normalizer come from the
        run; no training data is needed) with DPM-Solver++(2M) (or DDIM, --sampler ddim), in batches of independent noise. Files are named
        S0_D<mmddyy>_<mmddyy>_0_<n>_DM_AUG_L<label>.JPG at the next free indices: nothing is overwritten.
        Also writes a contact sheet, and compares each image with its nearest training image (a sheet of the
        pairs); both sheets go to the folder sheets/ beside the images' folder, which holds generated images only.
        """,
    options: InferInputs.options(["model_dir"], required: ["model_dir"]) + commonOptions(["config"])
        + GenerateConfig.options()
        + InferInputs.options(["out_dir", "no_memorization_check"])
        + commonOptions(
            ["threads", "dry_run", "quiet"],
            dryRun: "print what would be generated and the memory it takes; write nothing; fails as the run would"),
    rankAware: true,
    run: runInfer
)

func runInfer(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(InferInputs())
    let settings = try section(args, \.generate)
    let model = try TrainedModel(run: inputs.modelDir, checkpoint: settings.generation.checkpoint)
    let outDir = inputs.outDir ?? model.directory.generatedDir
    let available = ResourceUsage.availableBytes()
    let plan = try InferenceRun.plan(model, settings, outDir: outDir, available: available)
    print(
        "model: \(model.directory.path) (label \(plan.label), \(model.height)x\(model.width), \((model.checkpointPath as NSString).lastPathComponent) after epoch \(model.epoch))"
    )
    print(
        "generating \(counted(plan.count, "image")) with \(plan.sampler.summary), seed \(plan.seed), batches of \(plan.batch), indices \(plan.firstIndex)..\(plan.firstIndex + plan.count - 1), into \(outDir) (sheets into \(plan.sheetsDir)); memory \(mebibytes(plan.memoryBytes)) of \(mebibytes(available)) available"
    )
    if plan.memoryBytes > available {
        throw RiversError.usage(
            "batches of \(plan.batch) need \(mebibytes(plan.memoryBytes)) and \(mebibytes(available)) is available; use a smaller --batch_size"
        )
    }
    if options.dryRun {
        print("dry run: nothing was written.")
        return 0
    }
    Interrupt.install()
    let batches = Job.world.share(of: (plan.count + plan.batch - 1) / plan.batch).count
    let bar = ProgressBar(title: "infer", total: batches * plan.sampler.steps, unit: "step", enabled: !options.quiet)
    var reading: ProgressBar?
    var events = InferenceEvents()
    events.step = { bar.advance(note: String(format: "%.2f img/s", $0)) }
    events.shouldStop = { Interrupt.requested }
    events.trainingImages = {
        bar.finish(); reading = ProgressBar(title: "training images", total: $0, enabled: !options.quiet)
    }
    events.trainingImageRead = { reading?.advance() }
    let report = try InferenceRun.execute(
        plan, model: model, memorizationCheck: !inputs.noMemorizationCheck, events: events)
    if !Job.world.isRoot { return report.interrupted ? Interrupt.status : 0 }
    bar.finish()
    reading?.finish()
    let n = report.written.count
    print(
        String(
            format: "%@ written into %@ in %.1f s (%.2f s per image)", counted(n, "image"), outDir, report.seconds,
            report.seconds / Double(max(n, 1))))
    if let sheet = report.contactSheet { print("contact sheet: \(sheet)") }
    if let m = report.memorization { printMemorization(m) }
    if report.interrupted {
        print(
            "interrupted: \(n) of \(counted(plan.count, "image")) \(n == 1 ? "was" : "were") written; run again for more (new files take the next indices)."
        )
        return Interrupt.status
    }
    return 0
}

func printMemorization(_ m: MemorizationReport) {
    if let why = m.skipped { return note("memorization check skipped: \(why)") }
    let d = m.distances
    print(
        String(
            format:
                "memorization check against %d training images (RMS distance at %d px high, 0-1 scale): nearest min %.3f, median %.3f, max %.3f",
            m.trainingImages, Memorization.compareHeight, d.first!, d[d.count / 2], d.last!))
    if m.nearCopies.isEmpty {
        print(String(format: "no near copies (distance below %.2f)", Memorization.nearCopyThreshold))
    } else {
        print(
            String(format: "%d near copies (distance below %.2f):", m.nearCopies.count, Memorization.nearCopyThreshold))
        for c in m.nearCopies { print(String(format: "  %@ ~ %@ (%.3f)", c.generated, c.training, c.distance)) }
    }
    if let sheet = m.sheet { print("nearest neighbors (generated | nearest training image): \(sheet)") }
}
