// `rivers train`: one diffusion model for one label's images, and the pieces `train-all` shares.
import Foundation
import Rivers

/// What a training command reads and continues: given on the command line only.
struct TrainInputs: SettingGroup {
    var inDir: String? = nil
    var label: Int? = nil
    var loadAndTrain = false
    var modelDir: String? = nil
    var initFrom: String? = nil
    var gpuIndex: Int? = nil

    static let name = "command line"
    static let settings: [Setting<TrainInputs>] = [
        Setting(
            "in_dir", "training images (any folder depth); required unless resuming", \.inDir, placeholder: "DIR",
            range: .nonEmpty),
        Setting(
            "label", "the flow label the images show (default: from the folder name L2 or 2)", \.label,
            range: .within(1...6)),
        Setting("load_and_train", "continue the run --model_dir from its last checkpoint", \.loadAndTrain, flag: true),
        Setting("model_dir", "the run directory to continue", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting(
            "init_from",
            "start the new run from the weights and EMA of RUN's last checkpoint (same network, any image size; a fresh optimizer at step 0)",
            \.initFrom, placeholder: "RUN", range: .nonEmpty),
        Setting(
            "gpu_index", "accepted for the original's scripts and ignored: rivers runs on the CPU", \.gpuIndex,
            range: .within(0...65_535)),
    ]
}

/// Options of both training commands besides their inputs.
let sharedTrainOptions: [Option] =
    commonOptions(["config"]) + TrainConfig.options() + TrainInputs.options(["gpu_index"])
    + commonOptions(
        ["threads", "dry_run", "quiet"],
        dryRun:
            "print the configuration, parameters, GFLOP, memory and the time of one measured step; write nothing; fails as the run would"
    )

let trainCommand = Command(
    name: "train",
    abstract: "Train the diffusion model of one label (or resume a run).",
    summary: """
        Trains the DDIM diffusion model (U-Net) on every image below --in_dir (e.g. diffusion_data/L2), into
        a new run directory <out_dir>/L<label>_<time>/ holding config.json, best and last checkpoints,
        log.csv, loss.svg, sample grids and generated images. --load_and_train --model_dir RUN resumes a run
        exactly where it stopped. --init_from RUN starts a new run from another run's weights (e.g. trained
        at a smaller image size). Ctrl-C checkpoints and stops; the message says how to resume.
        """,
    options: TrainInputs.options(["in_dir", "label", "load_and_train", "model_dir", "init_from"]) + sharedTrainOptions,
    rankAware: true,
    run: runTrain
)

/// The thread count, the --gpu_index notice; shared by both training commands.
func prepareTraining(_ args: ParsedArguments) throws -> (CommonOptions, TrainInputs) {
    let options = try common(args)
    let inputs = try args.resolve(TrainInputs())
    if inputs.gpuIndex != nil {
        note(
            "--gpu_index is ignored: rivers has no GPU code and trains on the CPU (\(counted(Parallel.threadCount, "thread")))"
        )
    }
    return (options, inputs)
}

func runTrain(_ args: ParsedArguments) throws -> Int32 {
    let (options, inputs) = try prepareTraining(args)
    if inputs.loadAndTrain {
        if inputs.initFrom != nil {
            throw UsageError(
                description: "--init_from starts a new run; a resumed run continues from its own checkpoint")
        }
        guard let runPath = inputs.modelDir else {
            throw UsageError(description: "--load_and_train needs --model_dir RUN, the run directory to continue")
        }
        if options.config != nil {
            throw UsageError(
                description:
                    "--config applies to new runs; a resumed run keeps the configuration saved in \(runPath)/config.json"
            )
        }
        let given = Dictionary(uniqueKeysWithValues: args.given(in: TrainConfig.self).map { ($0, args.values[$0]!) })
        let resume = try ResumePlan(
            run: runPath, given: given, inDir: inputs.inDir, label: inputs.label, threads: Parallel.threadCount)
        for line in resume.notes { note(line) }
        if let complete = resume.complete {
            print("\(resume.directory.path) \(complete); nothing to do.")
            return 0
        }
        return try trainLabel(
            resume.record.train, inDir: resume.record.inDir, label: resume.record.label, resume: resume,
            options: options
        ).status
    }
    if inputs.modelDir != nil {
        throw UsageError(description: "--model_dir continues a run only with --load_and_train")
    }
    guard let inDir = inputs.inDir else {
        throw UsageError(description: "missing required option --in_dir (or --load_and_train --model_dir RUN)")
    }
    let config = try section(args, \.train)
    try TrainingPlan.checkOutputOutside(config, inDir: inDir)
    let label = try inputs.label ?? TrainingPlan.label(of: inDir)
    let source = try inputs.initFrom.map { try Checkpoint.initSource($0, network: config.network) }
    return try trainLabel(
        config, inDir: inDir, label: label, resume: nil, initFrom: source, options: options
    ).status
}

/// How one label's training ended, for the exit status and train-all's summary.
struct LabelResult {
    var label: Int
    var run: String?
    var epochs = 0
    var bestNLoss: Double?
    var seconds = 0.0
    var outcome: String
    var status: Int32
}

/// Plans, checks memory, loads the images and trains one label (new or resumed); prints as it goes.
func trainLabel(
    _ config: TrainConfig, inDir: String, label: Int, resume: ResumePlan?,
    initFrom: (path: String, state: Checkpoint.State)? = nil, options: CommonOptions
) throws -> LabelResult {
    let quiet = options.quiet
    let started = Date()
    let scan = try TrainingImages.scan(inDir)
    for skipped in scan.ignored { warn("\(skipped)") }
    let plan = try TrainingPlan(config: config, label: label, inDir: inDir, images: scan.images.count)
    if options.dryRun {
        printDryRun(plan, resume: resume?.directory, initFrom: initFrom)
        // A run that would be refused: the dry run fails with the same error.
        if plan.stepsPerEpoch == 0 {
            throw RiversError.file(
                path: inDir,
                reason:
                    "has \(counted(plan.images - plan.validationImages, "training image")), fewer than one batch of \(config.batchSize); lower --batch_size"
            )
        }
        if let refusal = plan.memoryRefusal(available: ResourceUsage.availableBytes()) {
            throw RiversError.usage(refusal)
        }
        return LabelResult(label: label, outcome: "dry run", status: 0)
    }
    if let refusal = plan.memoryRefusal(available: ResourceUsage.availableBytes()) { throw RiversError.usage(refusal) }
    let comm = Job.world
    _ = try TrainingRun.localBatch(config, ranks: comm.size)
    Interrupt.install()
    let load = TrainingImages.load(
        scan.images, height: config.height, width: config.width,
        progress: ProgressBar(title: "loading L\(label)", total: scan.images.count, enabled: !quiet))
    for failure in load.failures { warn("\(failure.path): \(failure.reason); skipped") }
    try load.images.checkSame(over: comm)
    // The ranks agree on a stop: one that left alone would leave the others in a collective.
    var stop = [Interrupt.requested ? 1.0 : 0.0]
    if comm.size > 1 { comm.allReduceSum(&stop) }
    if stop[0] > 0 {
        print("interrupted before training started; nothing was written.")
        return LabelResult(label: label, outcome: "interrupted", status: Interrupt.status)
    }
    let run: TrainingRun
    if let resume {
        run = try TrainingRun.resume(resume.directory, record: resume.record, data: load.images, comm: comm)
        print(
            "resuming \(resume.directory.path) after epoch \(run.progress.epoch)\(run.progress.epochStep > 0 ? ", step \(run.progress.epochStep)" : "") of \(config.numEpochs)"
        )
    } else {
        try TrainingRun.checkData(load.images, config, inDir: inDir)
        let directory = try RunDirectory.create(in: config.outDir, label: label, comm: comm)
        run = try TrainingRun.start(
            in: directory,
            record: RunRecord(
                label: label, inDir: FileOps.canonicalPath(inDir), train: config, initFrom: initFrom?.path),
            data: load.images, comm: comm)
        print(
            "training label \(label)\(comm.size > 1 ? " on \(comm.size) ranks (\(counted(run.trainer.batch, "image")) of each batch per rank)" : "") on \(counted(run.split.train.count, "image"))\(run.split.validation.isEmpty ? "" : " (+\(run.split.validation.count) for validation)") of \(config.height)x\(config.width), \(grouped(plan.parameters)) parameters, into \(directory.path)\(initFrom.map { ", from the weights of \($0.path) (epoch \($0.state.epoch), step \($0.state.step))" } ?? "")"
        )
    }
    let outcome = try run.train(trainingEvents(run, quiet: quiet))
    var result = LabelResult(
        label: label, run: run.directory.path, epochs: run.progress.epoch, bestNLoss: run.progress.bestNLoss,
        seconds: Date().timeIntervalSince(started), outcome: "", status: 0)
    switch outcome {
    case .interrupted(let epoch, let step):
        print(
            "interrupted \(step == 0 ? "after epoch \(epoch)" : "at epoch \(epoch + 1), step \(step)"): \(run.directory.lastCheckpoint) holds this state."
        )
        print(
            "resume with: \(Job.world.size > 1 ? "mpirun -np \(Job.world.size) " : "")rivers train --load_and_train --model_dir \(run.directory.path)"
        )
        result.outcome = "interrupted"; result.status = Interrupt.status
        return result
    case .stoppedEarly(let epochs):
        print(
            "early stopping after epoch \(epochs): n_loss improved by less than \(String(format: "%g", config.learningRate / 10)) for \(counted(run.progress.earlyStopping.patience, "epoch"))"
        )
        result.outcome = "stopped early"
    case .finished:
        result.outcome = "finished"
    }
    let missing = try config.imagesToGenerate - run.directory.finalImages(epoch: run.progress.epoch).made
    if missing > 0 && comm.isRoot {
        let batch = try TrainingPlan.generationBatch(run.trainer.net, config).batch
        let bar = ProgressBar(
            title: "generating", total: config.generateDiffusionSteps * ((missing + batch - 1) / batch),
            unit: "step", enabled: !quiet)
        var events = TrainingEvents()
        events.generationStep = { bar.advance() }
        events.shouldStop = { Interrupt.requested }
        let written = try run.writeGeneratedImages(events)
        bar.finish()
        print("\(counted(written.count, "image")) generated with the EMA weights into \(run.directory.generatedDir)")
        let made = try run.directory.finalImages(epoch: run.progress.epoch).made
        if made < config.imagesToGenerate {
            print(
                "interrupted: training is complete; \(made) of \(counted(config.imagesToGenerate, "image")) to generate \(made == 1 ? "was" : "were") generated."
            )
            print(
                "finish with: \(Job.world.size > 1 ? "mpirun -np \(Job.world.size) " : "")rivers train --load_and_train --model_dir \(run.directory.path)"
            )
            result.outcome = "interrupted"; result.status = Interrupt.status
        }
    }
    // Rank 0 alone makes the final images; every rank takes its status, so that all go on (or
    // stop) together.
    if comm.size > 1 {
        let status = Int32(comm.broadcast(Data([UInt8(clamping: result.status)]), root: 0).first ?? 0)
        if status != 0 { result.status = status; result.outcome = "interrupted" }
    }
    if result.status != 0 { return result }
    print(
        "run directory: \(run.directory.path) (best n_loss \(run.progress.bestNLoss.map { String(format: "%.5f", $0) } ?? "-"), peak memory \(mebibytes(ResourceUsage.peakResidentBytes())))"
    )
    return result
}

/// Progress bars per epoch (step, loss, images/s, ETA of the epoch and of the run) and a line per epoch.
func trainingEvents(_ run: TrainingRun, quiet: Bool) -> TrainingEvents {
    var events = TrainingEvents()
    let total = run.record.train.numEpochs, B = run.record.train.batchSize
    var bar: ProgressBar?
    var runStart = Date(), stepsTimed = 0
    events.epochStart = { epoch, done, steps in
        bar = ProgressBar(title: "epoch \(epoch + 1)/\(total)", total: (steps - done) * B, unit: "img", enabled: !quiet)
        if stepsTimed == 0 { runStart = Date() }
    }
    events.step = { epoch, done, steps, metrics in
        stepsTimed += 1
        let perStep = Date().timeIntervalSince(runStart) / Double(stepsTimed)
        let remaining = Double((total - epoch - 1) * steps + (steps - done)) * perStep
        bar?.advance(
            by: B, note: String(format: "n_loss %.4f  run ETA %@", metrics.nLoss, ProgressBar.clock(remaining)))
    }
    // A line per epoch, but at most one every 10 seconds between the first and the last (short
    // epochs would flood the screen); log.csv has every epoch.
    var lastLine = Date.distantPast
    events.epoch = { row, best in
        bar?.finish(clearing: true)
        guard row.epoch == 1 || row.epoch >= total || Date().timeIntervalSince(lastLine) >= 10 else { return }
        lastLine = Date()
        var line = String(format: "epoch %d/%d: n_loss %.5f  i_loss %.5f", row.epoch, total, row.nLoss, row.iLoss)
        if let v = row.validation { line += String(format: "  val_n_loss %.5f  val_i_loss %.5f", v.nLoss, v.iLoss) }
        line += String(format: "  %.1f s", row.seconds) + (best ? "  (best)" : "")
        print(line)
        fflush(stdout)
    }
    events.shouldStop = {
        guard Interrupt.requested else { return false }
        bar?.finish()
        return true
    }
    return events
}

func printDryRun(
    _ plan: TrainingPlan, resume: RunDirectory?, initFrom: (path: String, state: Checkpoint.State)? = nil
) {
    let c = plan.config
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print("configuration (resolved):")
    print(String(decoding: (try? encoder.encode(c)) ?? Data(), as: UTF8.self))
    print("label: \(plan.label)")
    print(
        "images: \(plan.images) found below \(plan.inDir)\(plan.validationImages > 0 ? ", \(plan.validationImages) held out for validation" : "") (not decoded in a dry run)"
    )
    print("parameters: \(grouped(plan.parameters))")
    if let initFrom {
        print(
            "starts from: the weights and EMA of \(initFrom.path) (epoch \(initFrom.state.epoch), step \(initFrom.state.step)); a fresh optimizer at step 0"
        )
    }
    print(
        String(
            format: "GFLOP per step: %.1f (batch %d of %dx%d)", plan.flopsPerStep / 1e9, c.batchSize, c.height, c.width)
    )
    let available = ResourceUsage.availableBytes()
    print(
        "planned memory: \(mebibytes(plan.totalBytes)) (training \(mebibytes(plan.training.totalBytes)), images \(mebibytes(plan.dataBytes)), generation \(mebibytes(plan.generationBytes))); available: \(mebibytes(available))"
    )
    if plan.stepsPerEpoch == 0 {
        print(
            "would not start: \(counted(plan.images - plan.validationImages, "training image")) \(plan.images - plan.validationImages == 1 ? "is" : "are") fewer than one batch of \(c.batchSize); lower --batch_size"
        )
    } else if let refusal = plan.memoryRefusal(available: available) {
        print("would not start: \(refusal)")
    } else if let measured = try? plan.measureStep() {
        let steps = plan.stepsPerEpoch
        let steady = measured.steady.map { String(format: "%.3f", $0) }.joined(separator: ", ")
        print(
            String(
                format:
                    "one step: %.3f s (measured on %@: %@ s after a warm-up step of %.3f s%@; other load on the machine slows steps, and validation and sample grids add to an epoch)",
                measured.seconds, counted(Parallel.threadCount, "thread"), steady, measured.warmUp,
                measured.steady.count > 1 ? String(format: "; the steps differ by %.1f%%", 100 * measured.spread) : ""))
        print(
            "per epoch: \(counted(steps, "step")), about \(ProgressBar.clock(Double(steps) * measured.seconds)); \(counted(c.numEpochs, "epoch")): about \(ProgressBar.clock(Double(steps * c.numEpochs) * measured.seconds)) (early stopping may end sooner)"
        )
    }
    print("dry run: nothing was written\(resume.map { " (would resume \($0.path))" } ?? "").")
}
