// What a training run will take before it starts: parameters, work per step, memory, steps per
// epoch. `--dry_run` prints it; a run that will not fit in memory is refused with it.
import Foundation

public struct TrainingPlan: Sendable {
    public let config: TrainConfig
    public let label: Int
    public let inDir: String
    /// Image files found (not yet decoded).
    public let images: Int
    public let parameters: Int
    public let flopsPerStep: Double
    /// The training workspace, parameters and optimizer state.
    public let training: MemoryPlan
    /// The decoded images held in memory (8-bit).
    public let dataBytes: Int
    /// The inference workspace of sample grids and final images (0 when none are generated).
    public let generationBytes: Int

    public var totalBytes: Int { training.totalBytes + dataBytes + generationBytes }
    public var validationImages: Int { Int(config.validationSplit * Double(images)) }
    public var stepsPerEpoch: Int { (images - validationImages) / config.batchSize }

    public init(config: TrainConfig, label: Int, inDir: String, images: Int) throws {
        self.config = config; self.label = label; self.inDir = inDir; self.images = images
        let net = try UNet(config.network)
        parameters = net.parameterCount
        flopsPerStep = 3 * net.forwardFlops(batch: config.batchSize, height: config.height, width: config.width)
        training = try UNetWorkspace.plannedMemory(
            net, batch: config.batchSize, height: config.height, width: config.width,
            mixedPrecision: config.useMixPrecision, training: true)
        dataBytes = images * config.height * config.width * 3
        generationBytes =
            config.imagesToGenerate > 0
            ? try TrainingPlan.generationBatch(net, config).memory : 0
    }

    /// The batch of the sample grids and final images: as many images at once as the
    /// configuration generates and trains with, while the inference workspace stays within
    /// 2 GiB (it lives beside the training workspace), at least 1. Returns it with its memory
    /// (without parameters: it uses the trainer's EMA weights).
    public static func generationBatch(_ net: UNet, _ config: TrainConfig) throws -> (batch: Int, memory: Int) {
        var best = (batch: 1, memory: 0)
        for b in 1...max(1, min(config.imagesToGenerate, config.batchSize)) {
            let plan = try UNetWorkspace.plannedMemory(
                net, batch: b, height: config.height, width: config.width, mixedPrecision: false, training: false)
            let bytes = plan.totalBytes - plan.parameterBytes
            if b > 1 && bytes > 2 << 30 { break }
            best = (b, bytes)
        }
        return best
    }

    /// The flow label of a training folder named `L2` or `2` (labels 1 to 6), else nil.
    public static func label(fromFolder path: String) -> Int? {
        var name = ((path as NSString).standardizingPath as NSString).lastPathComponent
        if name.hasPrefix("L") || name.hasPrefix("l") { name.removeFirst() }
        guard let n = Int(name), (1...6).contains(n), name.allSatisfy(\.isNumber) else { return nil }
        return n
    }

    /// The label of a folder of training images from its name (L2 or 2); an error says to pass --label.
    public static func label(of inDir: String) throws -> Int {
        guard let n = label(fromFolder: inDir) else {
            throw RiversError.usage(
                "cannot tell the label from the folder name '\((inDir as NSString).lastPathComponent)' (expected L1..L6 or 1..6); pass --label N"
            )
        }
        return n
    }

    /// The L<n> folders of `dir`, by label. Two folders of one label (L1 and L01) are refused,
    /// naming both, rather than both trained as that label.
    /// The run of each label below `dir`, a folder of run directories (`rivers train-all
    /// --init_from`): runs are matched by the label each recorded. A label in `labels` with no run,
    /// or with two, is refused naming the folder or both runs; `dir` being a run itself too.
    public static func runsByLabel(_ dir: String, labels: [Int]) throws -> [Int: String] {
        guard FileOps.isDirectory(dir) else {
            throw RiversError.file(
                path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
        }
        guard !FileManager.default.fileExists(atPath: RunDirectory(dir).configPath) else {
            throw RiversError.file(
                path: dir,
                reason: "is one run; train-all --init_from takes the folder that holds a run per label (e.g. models/)")
        }
        var runs: [Int: String] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        for name in names where !name.hasPrefix(".") {
            let path = (dir as NSString).appendingPathComponent(name)
            let run = RunDirectory(path)
            guard FileOps.isDirectory(path), FileManager.default.fileExists(atPath: run.configPath) else { continue }
            let label = try run.record().label
            if let other = runs[label], labels.contains(label) {
                throw RiversError.usage(
                    "\(dir) holds two runs of label \(label), \(other) and \(path); --init_from needs one per label (move the other away)"
                )
            }
            runs[label] = path
        }
        for label in labels where runs[label] == nil {
            throw RiversError.file(path: dir, reason: "holds no run of label \(label) to start it from (--init_from)")
        }
        return runs.filter { labels.contains($0.key) }
    }

    public static func labelFolders(_ dir: String) throws -> [(label: Int, path: String)] {
        guard FileOps.isDirectory(dir) else {
            throw RiversError.file(
                path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var byLabel: [Int: String] = [:]
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            // A label folder that is not a usable folder (a broken link, a file) is kept: training
            // it fails and is reported, instead of the label being passed over in silence.
            var st = stat()
            guard name.hasPrefix("L"), FileOps.isDirectory(path) || lstat(path, &st) == 0,
                let label = label(fromFolder: name)
            else { continue }
            if let other = byLabel[label] { throw RawDataset.twoFolders(dir, label: label, other, name) }
            byLabel[label] = name
        }
        if byLabel.isEmpty {
            throw RiversError.file(
                path: dir, reason: "has no label folders L1 .. L6 (rivers balance writes them under diffusion_data/)")
        }
        return byLabel.keys.sorted().map { ($0, (dir as NSString).appendingPathComponent(byLabel[$0]!)) }
    }

    /// Refuses an output folder inside the training images: its generated images would be trained on.
    public static func checkOutputOutside(_ config: TrainConfig, inDir: String) throws {
        try FileOps.checkOutside(config.outDir, "--out_dir", input: inDir, "--in_dir")
    }

    /// Why the run cannot start with `available` bytes of memory, with the figures and what to
    /// change; nil when it fits.
    public func memoryRefusal(available: Int) -> String? {
        guard totalBytes > available else { return nil }
        var hints = ["a smaller --batch_size", "a smaller --image_size"]
        if !config.useMixPrecision { hints.append("--use_mix_precision") }
        return
            "the run needs \(mebibytes(totalBytes)) of memory (training \(mebibytes(training.totalBytes)), images \(mebibytes(dataBytes)), generation \(mebibytes(generationBytes))) and \(mebibytes(available)) is available; try \(hints.joined(separator: ", or "))"
    }

    /// A training step measured on random images: a warm-up step (it also touches the memory of
    /// the whole step and grows the kernels' scratch, and at 200x600 took 1.3x a later step), then
    /// steady steps: two when the warm-up took under a minute, else one.
    public struct StepTiming: Sendable {
        public var warmUp: Double
        public var steady: [Double]
        /// The estimate: the median of the steady steps.
        public var seconds: Double {
            let s = steady.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        /// How far apart the steady steps were, as a fraction of the estimate (0 with one step).
        public var spread: Double { ((steady.max() ?? 0) - (steady.min() ?? 0)) / max(seconds, 1e-12) }
    }

    /// Times this configuration's training step (see `StepTiming`).
    public func measureStep() throws -> StepTiming {
        let trainer = try DiffusionTrainer(
            config: config.network, batch: config.batchSize, height: config.height, width: config.width,
            mixedPrecision: config.useMixPrecision, learningRate: Float(config.learningRate), seed: config.seed)
        var rng = SeededGenerator(seed: 7)
        let images = (0..<(config.batchSize * config.height * config.width * 3)).map { _ in rng.uniform() }
        func timed() -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            trainer.step(images)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        let warmUp = timed()
        return StepTiming(warmUp: warmUp, steady: (0..<(warmUp < 60 ? 2 : 1)).map { _ in timed() })
    }
}
