// `rivers train`'s loop: epochs of shuffled batches, per-epoch log and validation, best and last
// checkpoints, early stopping, sample grids, exact resume from any step, and a clean stop.
import Foundation

/// Where a run is inside its epochs, saved in every checkpoint, so that a resumed run continues
/// from the same step with the same numbers as one that never stopped.
public struct TrainingProgress: Codable, Equatable, Sendable {
    /// Completed epochs.
    public var epoch = 0
    /// Steps done in the epoch after those, and the sums of their losses.
    public var epochStep = 0
    public var nLossSum = 0.0, iLossSum = 0.0
    /// Wall time spent in that partial epoch (for the log's seconds column only).
    public var epochSeconds = 0.0
    /// The best epoch n_loss so far (best.safetensors holds that epoch's state).
    public var bestNLoss: Double?
    public var earlyStopping: EarlyStopping
    public var stoppedEarly = false

    public init(earlyStopping: EarlyStopping) { self.earlyStopping = earlyStopping }

    static let metadataKey = "training"
}

/// How a call of `TrainingRun.train` ended.
public enum TrainingOutcome: Equatable, Sendable {
    /// Every epoch of the configuration ran.
    case finished
    /// Early stopping ended the run after this many epochs.
    case stoppedEarly(epochs: Int)
    /// `shouldStop` asked to stop; `last.safetensors` holds the state after (epoch, step).
    case interrupted(epoch: Int, step: Int)
}

/// What the loop tells its caller (progress bars, logs); every member may be left out.
public struct TrainingEvents {
    /// After each step: 0-based epoch, steps done in it, steps per epoch, that step's metrics.
    public var step: (_ epoch: Int, _ done: Int, _ steps: Int, _ metrics: StepMetrics) -> Void = { _, _, _, _ in }
    /// At the start of each epoch (or of the rest of a partial one): 0-based epoch, steps done, steps.
    public var epochStart: (_ epoch: Int, _ done: Int, _ steps: Int) -> Void = { _, _, _ in }
    /// After each epoch: its log row, and whether it is the best so far.
    public var epoch: (_ row: EpochLog, _ best: Bool) -> Void = { _, _ in }
    /// Polled before every step; true stops the run after checkpointing (Ctrl-C).
    public var shouldStop: () -> Bool = { false }
    /// Each DDIM step of a sample grid or of the final images.
    public var generationStep: () -> Void = {}
    public init() {}
}

public final class TrainingRun {
    /// The ranks training together (one process unless under `mpirun`): each computes the
    /// gradient of its share of every global batch, the slab is summed over the ranks, and every
    /// rank applies the same update. Rank 0 alone writes.
    public let comm: Communicator
    public let directory: RunDirectory
    public private(set) var record: RunRecord
    public let data: TrainingImages
    public let trainer: DiffusionTrainer
    public private(set) var progress: TrainingProgress
    public private(set) var log: [EpochLog]
    public let split: (train: [Int], validation: [Int])
    /// A mid-epoch `last.safetensors` is written when this much time passed since the last one,
    /// so a kill -9 during a long epoch loses at most this much work.
    public var checkpointInterval: TimeInterval = 15 * 60
    private let batch: FloatBuffer
    /// Holds the run directory's lock from `start`/`resume` to the end of `train`.
    private var lockDescriptor: Int32 = -1

    deinit { releaseLock() }

    /// Lets go of the run directory's lock and removes its `.lock` (a finished or stopped run
    /// leaves none; a killed one may, and the next run locks it again).
    func releaseLock() {
        directory.unlock(lockDescriptor)
        lockDescriptor = -1
    }

    var config: TrainConfig { record.train }
    public var stepsPerEpoch: Int { split.train.count / config.batchSize }

    private init(
        directory: RunDirectory, record: RunRecord, data: TrainingImages, trainer: DiffusionTrainer,
        progress: TrainingProgress, log: [EpochLog], comm: Communicator
    ) {
        self.directory = directory; self.record = record; self.data = data; self.trainer = trainer
        self.progress = progress; self.log = log; self.comm = comm
        split = data.split(validation: record.train.validationSplit, seed: record.train.seed)
        batch = FloatBuffer(count: trainer.batch * data.height * data.width * 3)
    }

    /// Each rank's share of a global batch: `--batch_size` split evenly over the ranks.
    public static func localBatch(_ config: TrainConfig, ranks: Int) throws -> Int {
        guard ranks >= 1, config.batchSize % ranks == 0 else {
            throw RiversError.usage(
                "--batch_size \(config.batchSize) does not split evenly over \(ranks) ranks; choose a multiple of \(ranks)"
            )
        }
        return config.batchSize / ranks
    }

    /// The images a configuration can train on: at least one batch after the validation split.
    public static func checkData(_ data: TrainingImages, _ config: TrainConfig, inDir: String) throws {
        // No batch size helps a folder of which no image decoded.
        if data.count == 0 {
            throw RiversError.file(path: inDir, reason: "no image could be decoded (each was reported above)")
        }
        let held = Int(config.validationSplit * Double(data.count))
        if data.count - held < config.batchSize {
            let detail =
                held > 0
                ? " (\(data.count) readable, \(held) held out by --validation_split \(formatNumber(config.validationSplit)))"
                : ""
            throw RiversError.file(
                path: inDir,
                reason:
                    "has \(counted(data.count - held, "training image"))\(detail), fewer than one batch of \(config.batchSize); lower --batch_size"
            )
        }
    }

    static func makeTrainer(_ config: TrainConfig, comm: Communicator) throws -> DiffusionTrainer {
        try DiffusionTrainer(
            config: config.network, batch: try localBatch(config, ranks: comm.size), height: config.height,
            width: config.width,
            mixedPrecision: config.useMixPrecision, learningRate: Float(config.learningRate),
            emaDecay: Float(config.ema), schedule: config.schedule, seed: config.seed)
    }

    /// A new run in `directory` (already created, empty): writes `config.json` first (rank 0).
    public static func start(
        in directory: RunDirectory, record: RunRecord, data: TrainingImages, comm: Communicator = Job.world
    ) throws -> TrainingRun {
        try checkData(data, record.train, inDir: record.inDir)
        let trainer = try makeTrainer(record.train, comm: comm)
        trainer.normalizer = data.normalizer()
        if let source = record.initFrom { try Checkpoint.loadWeights(source, into: trainer) }
        let early = EarlyStopping(epochs: record.train.numEpochs, learningRate: record.train.learningRate)
        let run = TrainingRun(
            directory: directory, record: record, data: data, trainer: trainer,
            progress: TrainingProgress(earlyStopping: early),
            log: [], comm: comm)
        if comm.isRoot {
            // The run holds the lock from here (a failure below releases it as the run goes).
            run.lockDescriptor = try directory.lock()
            try directory.write(record)
        }
        return run
    }

    /// Continues the run in `directory` from `last.safetensors` with `record` (the saved one,
    /// possibly with a new epoch total); the log is cut back to the checkpoint's epoch.
    public static func resume(
        _ directory: RunDirectory, record: RunRecord, data: TrainingImages, comm: Communicator = Job.world
    ) throws -> TrainingRun {
        try checkData(data, record.train, inDir: record.inDir)
        var lock: Int32 = -1
        if comm.isRoot {
            lock = try directory.lock()
            directory.removeStaleTemporaries()
        }
        // Until the run takes it over, a failure releases the lock (and removes .lock).
        defer { directory.unlock(lock) }
        let trainer = try makeTrainer(record.train, comm: comm)
        guard FileManager.default.fileExists(atPath: directory.lastCheckpoint) else {
            throw RiversError.file(
                path: directory.lastCheckpoint, reason: "missing: the run has no checkpoint to resume from")
        }
        let state = try Checkpoint.load(directory.lastCheckpoint, into: trainer)
        // The network does not fix the image size; the checkpoint records the one it trained at.
        if let size = state.extra["image_size"], size != record.train.imageSize.map(String.init).joined(separator: " ")
        {
            throw RiversError.file(
                path: directory.configPath,
                reason:
                    "says image_size \(record.train.imageSize.map(String.init).joined(separator: " ")), but \(directory.lastCheckpoint) was trained at \(size); a resume keeps the run's image size"
            )
        }
        var progress = try progress(of: state, path: directory.lastCheckpoint)
        if !record.train.earlyStopping { progress.stoppedEarly = false }
        // A new epoch total moves early stopping's start and patience as the original derives them.
        let early = EarlyStopping(epochs: record.train.numEpochs, learningRate: record.train.learningRate)
        progress.earlyStopping.startEpoch = early.startEpoch
        progress.earlyStopping.patience = early.patience
        // Bad rows are dropped with a warning; an unusable log.csv is an error before anything is written.
        let (log, logWarning) = try directory.logForResume(through: progress.epoch)
        if comm.isRoot, let logWarning {
            FileHandle.standardError.write(Data("warning: \(logWarning); the resumed log drops them\n".utf8))
        }
        let run = TrainingRun(
            directory: directory, record: record, data: data, trainer: trainer, progress: progress, log: log, comm: comm
        )
        if comm.isRoot {
            run.lockDescriptor = lock
            lock = -1
            try directory.write(record)
            try directory.writeLog(log, validation: !run.split.validation.isEmpty)
        }
        return run
    }

    /// Where the run of `directory` stands, from its `last.safetensors`.
    public static func savedProgress(_ directory: RunDirectory) throws -> TrainingProgress {
        let path = directory.lastCheckpoint
        guard FileManager.default.fileExists(atPath: path) else {
            throw RiversError.file(path: path, reason: "missing: the run has no checkpoint to resume from")
        }
        return try progress(of: try Checkpoint.state(of: try SafeTensors.read(path), path: path), path: path)
    }

    static func progress(of state: Checkpoint.State, path: String) throws -> TrainingProgress {
        guard let text = state.extra[TrainingProgress.metadataKey],
            let progress = try? JSONDecoder().decode(TrainingProgress.self, from: Data(text.utf8))
        else {
            throw RiversError.file(path: path, reason: "has no training progress: not written by rivers train")
        }
        return progress
    }

    /// The checkpoint's bytes for the current state.
    func checkpointData() throws -> Data {
        let text = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        return try Checkpoint.encode(
            trainer, epoch: progress.epoch,
            extra: [
                TrainingProgress.metadataKey: text, "label": String(record.label),
                "image_size": config.imageSize.map(String.init).joined(separator: " "),
            ])
    }

    /// Runs epochs until the configuration's total, early stopping, or `events.shouldStop` (on
    /// any rank: the ranks agree before every step).
    public func train(_ events: TrainingEvents = TrainingEvents()) throws -> TrainingOutcome {
        defer { releaseLock() }
        let B = config.batchSize, share = trainer.batch, root = comm.isRoot
        var lastSave = Date()
        // A sample grid of the checkpoint's epoch that a kill kept from being drawn.
        if root && progress.epoch > 0 && progress.epochStep == 0 && config.generateOnEpoch > 0
            && progress.epoch % config.generateOnEpoch == 0 && config.imagesToGenerate > 0
            && !FileManager.default.fileExists(atPath: sampleGridPath)
        {
            try writeSampleGrid(events)
        }
        while progress.epoch < config.numEpochs && !progress.stoppedEarly {
            let epoch = progress.epoch, steps = stepsPerEpoch
            let order = TrainingImages.epochOrder(split.train, epoch: epoch, seed: config.seed)
            let started = Date().addingTimeInterval(-progress.epochSeconds)
            events.epochStart(epoch, progress.epochStep, steps)
            while progress.epochStep < steps {
                if stopRequested(events) {
                    progress.epochSeconds = Date().timeIntervalSince(started)
                    if root { try FileOps.replaceAtomically(try checkpointData(), at: directory.lastCheckpoint) }
                    return .interrupted(epoch: epoch, step: progress.epochStep)
                }
                // This rank's share of the global batch: images first + rank * share ..< + share.
                let first = progress.epochStep * B + comm.rank * share
                data.fill(batch.pointer, indices: order[first..<(first + share)])
                let local = trainer.computeGradients(batch.pointer, first: comm.rank * share, of: B)
                comm.allReduceSum(trainer.slab.grads.pointer, count: trainer.slab.count)
                var sums = [local.nSum, local.iSum]
                comm.allReduceSum(&sums)
                trainer.applyGradients()
                let metrics = trainer.metrics((sums[0], sums[1]), images: B)
                guard metrics.nLoss.isFinite && metrics.iLoss.isFinite else {
                    throw RiversError.diverged(
                        "the loss became \(metrics.nLoss) at epoch \(epoch + 1), step \(progress.epochStep + 1); nothing after the last checkpoint was saved. Lower --learning_rate and resume or start again"
                    )
                }
                progress.nLossSum += Double(metrics.nLoss)
                progress.iLossSum += Double(metrics.iLoss)
                progress.epochStep += 1
                events.step(epoch, progress.epochStep, steps, metrics)
                if root && Date().timeIntervalSince(lastSave) >= checkpointInterval && progress.epochStep < steps {
                    progress.epochSeconds = Date().timeIntervalSince(started)
                    try FileOps.replaceAtomically(try checkpointData(), at: directory.lastCheckpoint)
                    lastSave = Date()
                }
            }
            // Validation is only logged, so rank 0 alone runs it.
            let validation = split.validation.isEmpty || !root ? nil : validate(epoch: epoch)
            let row = EpochLog(
                epoch: epoch + 1, nLoss: progress.nLossSum / Double(steps), iLoss: progress.iLossSum / Double(steps),
                validation: validation, seconds: Date().timeIntervalSince(started), learningRate: config.learningRate)
            // The log first: a kill before the checkpoint below re-runs this epoch on resume, which
            // cuts the log back and gives the same row again.
            log.append(row)
            if root { try directory.writeLog(log, validation: validation != nil) }
            progress.epoch += 1
            progress.epochStep = 0; progress.nLossSum = 0; progress.iLossSum = 0; progress.epochSeconds = 0
            let best = progress.bestNLoss.map { row.nLoss < $0 } ?? true
            if best { progress.bestNLoss = row.nLoss }
            // Stopping counts only before the last epoch: a run that reaches its total has finished.
            if config.earlyStopping && progress.earlyStopping.update(epoch: epoch, loss: row.nLoss)
                && progress.epoch < config.numEpochs
            {
                progress.stoppedEarly = true
            }
            if root {
                let bytes = try checkpointData()
                // best before last: a kill between the two leaves `last` at the previous epoch, which
                // re-runs this one and writes the same `best` again.
                if best { try FileOps.replaceAtomically(bytes, at: directory.bestCheckpoint) }
                try FileOps.replaceAtomically(bytes, at: directory.lastCheckpoint)
                lastSave = Date()
                if config.generateOnEpoch > 0 && progress.epoch % config.generateOnEpoch == 0
                    && config.imagesToGenerate > 0
                {
                    try writeSampleGrid(events)
                }
            }
            events.epoch(row, best)
        }
        return progress.stoppedEarly ? .stoppedEarly(epochs: progress.epoch) : .finished
    }

    /// Whether to stop before the next step: `events.shouldStop` on this rank, or on any rank
    /// of a job of several (they must stop at the same step).
    func stopRequested(_ events: TrainingEvents) -> Bool {
        var stop = [events.shouldStop() ? 1.0 : 0.0]
        if comm.size > 1 { comm.allReduceSum(&stop) }
        return stop[0] > 0
    }

    /// Mean losses of the EMA network over the validation images; validation image k of epoch e
    /// draws from a stream of (seed, e, k), so validation never changes the training draws.
    func validate(epoch: Int) -> (nLoss: Double, iLoss: Double) {
        let B = config.batchSize, images = split.validation
        var nSum = 0.0, iSum = 0.0
        var first = 0
        while first < images.count {
            let valid = min(B, images.count - first)
            // A short last batch is padded with its first image; the padding does not count.
            let indices = images[first..<(first + valid)] + Array(repeating: images[first], count: B - valid)
            data.fill(batch.pointer, indices: indices[...])
            let rngs = (0..<B).map {
                SeededGenerator(seed: config.seed, stream: ["validation", String(epoch), String(first + $0)])
            }
            let m = trainer.evaluate(batch.pointer, valid: valid, rngs: rngs)
            nSum += Double(m.nLoss) * Double(valid); iSum += Double(m.iLoss) * Double(valid)
            first += valid
        }
        return (nSum / Double(images.count), iSum / Double(images.count))
    }

    /// A generator of images from the EMA weights: `count` images from `first` of `stream`, in
    /// batches that keep inference memory bounded (`TrainingPlan.generationBatch`). Image k
    /// draws its noise from (seed, stream, k): every sample grid of a run starts from the same noise.
    func generator(onStep: @escaping () -> Void, shouldStop: @escaping () -> Bool = { false }) throws -> (
        batch: Int, generate: (_ count: Int, _ first: Int, _ stream: String) throws -> [Image]
    ) {
        let predictor = try NetworkPredictor(
            net: trainer.net, weights: trainer.slab.ema.pointer,
            batch: try TrainingPlan.generationBatch(trainer.net, config).batch,
            height: config.height, width: config.width)
        let sampler = config.generationSampler
        return (
            predictor.batch,
            { count, first, stream in
                do {
                    return try Generation.images(
                        indices: Array(first..<(first + count)), predictor: predictor,
                        normalizer: self.trainer.normalizer, sampler: sampler, seed: self.config.seed, stream: stream,
                        onStep: { _ in onStep() }, shouldStop: shouldStop)
                } catch RiversError.diverged(let why) {
                    throw RiversError.diverged("the EMA weights do not generate: \(why)")
                }
            }
        )
    }

    /// `samples/epoch_NNNN.png`: the configured number of images from the same noise each time.
    func writeSampleGrid(_ events: TrainingEvents) throws {
        let images = try generator(onStep: events.generationStep).generate(config.imagesToGenerate, 0, "samples")
        guard images.count == config.imagesToGenerate else { return }
        guard let grid = Image.grid(images, columns: config.width >= 2 * config.height ? 1 : 4) else { return }
        try FileOps.makeDirectory(directory.samplesDir)
        let path = sampleGridPath
        try FileOps.replaceAtomically(try ImageFile.encode(grid, path: path), at: path)
    }

    /// The sample grid of the current epoch.
    var sampleGridPath: String {
        (directory.samplesDir as NSString).appendingPathComponent(String(format: "epoch_%04d.png", progress.epoch))
    }

    /// The final images into `generated_images/`, batch by batch, named as `rivers infer` names
    /// them, each at the next free index (nothing is overwritten). `events.shouldStop` is polled
    /// between batches. Returns the paths written.
    public func writeGeneratedImages(_ events: TrainingEvents = TrainingEvents(), date: Date = Date()) throws
        -> [String]
    {
        let count = config.imagesToGenerate
        var progress = try directory.finalImages(epoch: self.progress.epoch)
        guard count > progress.made else { return [] }
        let generator = try generator(onStep: events.generationStep, shouldStop: events.shouldStop)
        try FileOps.makeDirectory(directory.generatedDir)
        var written: [String] = []
        // Image k of the generation stream, from the first one not yet made: a resumed run makes
        // the images an uninterrupted one would have made.
        while progress.made < count && !events.shouldStop() {
            let images = try generator.generate(
                min(generator.batch, count - progress.made), progress.made, "generation")
            for image in images {
                let data = try ImageFile.encode(image, path: "image.JPG")
                // The name is recorded as pending before the file is written (a kill between the
                // two is settled on resume by whether the file is there), then the file is
                // written without replacing anything: a name taken meanwhile moves to the next.
                while true {
                    let name = GeneratedNames.pure(label: record.label, index: progress.nextIndex, date: date)
                    let path = (directory.generatedDir as NSString).appendingPathComponent(name)
                    if FileManager.default.fileExists(atPath: path) {
                        progress.nextIndex += 1
                        continue
                    }
                    progress.pending = name
                    try directory.write(progress)
                    do {
                        try FileOps.writeNew(data, to: path)
                    } catch RiversError.exists(_) {
                        // Another writer took the name meanwhile: it is not ours to count.
                        progress.nextIndex += 1
                        progress.pending = nil
                        try directory.write(progress)
                        continue
                    }
                    progress.made += 1
                    progress.nextIndex += 1
                    progress.pending = nil
                    try directory.write(progress)
                    written.append(path)
                    break
                }
            }
            if images.isEmpty { break }
        }
        return written
    }
}
