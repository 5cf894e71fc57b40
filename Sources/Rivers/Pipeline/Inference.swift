// `rivers infer`: a trained run's EMA weights, a plan of what to generate (batch, indices,
// memory), generation into never-overwritten files, and the memorisation check.
import Foundation

/// A trained run ready to generate: its record, one checkpoint's EMA weights and normaliser.
public final class TrainedModel {
    public let directory: RunDirectory
    public let record: RunRecord
    public let net: UNet
    public let weights: FloatBuffer
    public let normalizer: Normalizer
    public let checkpointPath: String
    public let epoch: Int

    /// Loads `best` or `last` of the run at `path`; a folder that is not a run, a missing or
    /// corrupt checkpoint, or one that does not match the run's configuration is an error
    /// naming the file.
    public init(run path: String, checkpoint: String = "best") throws {
        directory = RunDirectory(path)
        record = try directory.record()
        guard ["best", "last"].contains(checkpoint) else { throw RiversError.usage("--checkpoint must be best or last, got '\(checkpoint)'") }
        checkpointPath = checkpoint == "best" ? directory.bestCheckpoint : directory.lastCheckpoint
        guard FileManager.default.fileExists(atPath: checkpointPath) else {
            throw RiversError.file(path: checkpointPath, reason: "missing: the run has no \(checkpoint) checkpoint yet (it saves one after its first epoch)")
        }
        do {
            net = try UNet(record.train.network)
        } catch let error as RiversError {
            throw RiversError.file(path: directory.configPath, reason: "describes a network that cannot be built: \(error.description)")
        }
        let loaded = try Checkpoint.loadEMA(checkpointPath, config: record.train.network, layout: net.layout)
        weights = loaded.weights
        normalizer = loaded.normalizer
        epoch = loaded.state.epoch
    }

    public var height: Int { record.train.height }
    public var width: Int { record.train.width }

    public func predictor(batch: Int) throws -> NetworkPredictor {
        try NetworkPredictor(net: net, weights: weights.pointer, batch: batch, height: height, width: width)
    }

    /// Inference memory of a batch (the EMA weights counted once).
    public func memory(batch: Int) throws -> Int {
        let plan = try UNetWorkspace.plannedMemory(net, batch: batch, height: height, width: width, mixedPrecision: false, training: false)
        return plan.totalBytes - plan.parameterBytes + 4 * net.parameterCount
    }
}

/// What `rivers infer` will do: a value, printed by `--dry_run`.
public struct InferencePlan: Sendable {
    public var count: Int
    public var sampler: DDIMSampler
    public var seed: UInt64
    public var batch: Int
    public var outDir: String
    public var label: Int
    /// The first file index: one past the largest index of a generated image already in `outDir`.
    public var firstIndex: Int
    public var memoryBytes: Int

    public init(count: Int, sampler: DDIMSampler, seed: UInt64, batch: Int, outDir: String, label: Int, firstIndex: Int, memoryBytes: Int) {
        self.count = count; self.sampler = sampler; self.seed = seed; self.batch = batch
        self.outDir = outDir; self.label = label; self.firstIndex = firstIndex; self.memoryBytes = memoryBytes
    }

    /// The largest batch up to 8 (more does not help a CPU) and up to `count` whose memory stays
    /// within half of `available`, at least 1.
    public static func automaticBatch(_ model: TrainedModel, count: Int, available: Int) throws -> Int {
        var batch = 1
        for b in 1...max(1, min(count, 8)) where try model.memory(batch: b) <= available / 2 { batch = b }
        return batch
    }

    /// One past the largest index used in `dir` by a generated image of `label`
    /// (`S0_..._0_<n>_DM_..._L<label>.JPG`) or claimed by a running process.
    public static func nextIndex(in dir: String, label: Int) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var next = 0
        for name in names {
            if let id = GeneratedNames.identity(of: name), id.site == "S0", id.kind == "AUG", id.label == label {
                next = max(next, id.index + 1)
            } else if name.hasPrefix(IndexClaims.prefix(label)), let n = Int(name.dropFirst(IndexClaims.prefix(label).count)),
                      !IndexClaims.isStale((dir as NSString).appendingPathComponent(name)) {
                next = max(next, n + 1)
            }
        }
        return next
    }
}

/// File indices of generated images claimed by this process before it generates them, so that
/// two processes generating into one folder use different indices, hence different noise
/// (image n draws from (seed, n)) and different names. A claim is a hidden file
/// `.claim_L<label>_<n>`, created exclusively, removed once image n is written (or when the
/// claims are released); one left by a killed process only makes its index skipped.
public final class IndexClaims {
    public let dir: String, label: Int
    public private(set) var indices: [Int] = []

    static func prefix(_ label: Int) -> String { ".claim_L\(label)_" }
    func claimPath(_ n: Int) -> String { (dir as NSString).appendingPathComponent(IndexClaims.prefix(label) + String(n)) }

    /// Claims `count` indices from the next free one on; `imageName(n)` is image n's file name.
    public init(dir: String, label: Int, count: Int, imageName: (Int) -> String) throws {
        self.dir = dir; self.label = label
        var n = InferencePlan.nextIndex(in: dir, label: label)
        while indices.count < count {
            let fd = open(claimPath(n), O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd < 0 && errno == EEXIST && IndexClaims.isStale(claimPath(n)) {
                unlink(claimPath(n)) // left by a killed process: the index is free again
                continue
            }
            if fd >= 0 {
                let pid = Array("\(getpid())".utf8)
                _ = pid.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
                close(fd)
                // Claimed; an image written meanwhile by a process that has released its claim
                // keeps its index.
                if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(imageName(n))) { unlink(claimPath(n)) } else { indices.append(n) }
            } else if errno != EEXIST {
                throw RiversError.file(path: claimPath(n), reason: "cannot be created: \(String(cString: strerror(errno)))")
            }
            n += 1
        }
    }

    /// A claim whose process (the pid it holds) no longer runs.
    static func isStale(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), let pid = Int32(String(decoding: data, as: UTF8.self)) else { return false }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    public func release(_ n: Int) {
        if let k = indices.firstIndex(of: n) { indices.remove(at: k); unlink(claimPath(n)) }
    }

    public func releaseAll() {
        for n in indices { unlink(claimPath(n)) }
        indices = []
    }

    deinit { releaseAll() }
}

/// The memorisation check: how close each generated image is to its nearest training image.
public enum Memorisation {
    /// Images are compared at this height (width from the aspect ratio), RGB in [0, 1].
    public static let compareHeight = 24
    /// A generated image whose root-mean-square distance to a training image is below this is
    /// flagged as a near copy. At 24 pixels high, the same photo re-encoded as a JPEG, or moved by
    /// a pixel or two, stays well below it (about 0.01-0.03); two photos of one site at different
    /// times differ by more (texture, light, water).
    public static let nearCopyThreshold: Float = 0.04

    /// A small copy of `image` for comparison: centre crop to the aspect, area resize.
    public static func thumbnail(_ image: Image, height: Int, width: Int) -> [Float] {
        let h = compareHeight, w = max(1, Int((Double(compareHeight) * Double(width) / Double(height)).rounded()))
        let small = Geometry.resizeArea(Geometry.cropToAspectRatio(image, width: width, height: height), width: w, height: h)
        return small.pixels.map { Float($0) / 255 }
    }

    public struct Match: Sendable {
        public let generated: Int
        public let training: Int
        public let distance: Float
        public var nearCopy: Bool { distance < Memorisation.nearCopyThreshold }
    }

    /// For each generated thumbnail, the nearest training thumbnail and their RMS distance.
    public static func nearest(_ generated: [[Float]], among training: [[Float]]) -> [Match] {
        generated.enumerated().map { g, a in
            var best = (index: -1, distance: Float.infinity)
            for (t, b) in training.enumerated() {
                var sum: Float = 0
                for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
                let distance = (sum / Float(max(a.count, 1))).squareRoot()
                if distance < best.distance { best = (t, distance) }
            }
            return Match(generated: g, training: best.index, distance: best.distance)
        }
    }
}
