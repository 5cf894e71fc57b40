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

    /// Seconds of one training step of this configuration on random images: a first step (which
    /// also grows the kernels' scratch), then a second one when the first took under 90 s.
    /// Returns the last measured time and whether it is the first, warm-up, step.
    public func measureStep() throws -> (seconds: Double, firstStepOnly: Bool) {
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
        let first = timed()
        return first < 90 ? (timed(), false) : (first, true)
    }
}
