// A trained run ready to generate: its record, one checkpoint's EMA weights and normalizer.
import Foundation

/// A trained run ready to generate: its record, one checkpoint's EMA weights and normalizer.
public final class TrainedModel {
    public let directory: RunDirectory
    public let record: RunRecord
    public let net: UNet
    public let weights: FloatBuffer
    public let normalizer: Normalizer
    public let checkpointPath: String
    public let epoch: Int
    /// Optimizer steps of the checkpoint.
    public let step: Int

    /// Loads `best` or `last` of the run at `path`; a folder that is not a run, a missing or
    /// corrupt checkpoint, or one that does not match the run's configuration is an error
    /// naming the file.
    public init(run path: String, checkpoint: String = "best") throws {
        directory = RunDirectory(path)
        record = try directory.record()
        guard ["best", "last"].contains(checkpoint) else {
            throw RiversError.usage("--checkpoint must be best or last, got '\(checkpoint)'")
        }
        checkpointPath = checkpoint == "best" ? directory.bestCheckpoint : directory.lastCheckpoint
        guard FileManager.default.fileExists(atPath: checkpointPath) else {
            throw RiversError.file(
                path: checkpointPath,
                reason: "missing: the run has no \(checkpoint) checkpoint yet (it saves one after its first epoch)")
        }
        do {
            net = try UNet(record.train.network)
        } catch let error as RiversError {
            throw RiversError.file(
                path: directory.configPath, reason: "describes a network that cannot be built: \(error.description)")
        }
        let loaded = try Checkpoint.loadEMA(checkpointPath, config: record.train.network, layout: net.layout)
        weights = loaded.weights
        normalizer = loaded.normalizer
        epoch = loaded.state.epoch
        step = loaded.state.step
    }

    /// Runs `body`, a generation with this model; an output that is not finite becomes an error
    /// naming the checkpoint (its weights cannot generate).
    public func generating<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch RiversError.diverged(let why) {
            throw RiversError.file(path: checkpointPath, reason: "its weights do not generate: \(why)")
        }
    }

    public var height: Int { record.train.height }
    public var width: Int { record.train.width }

    public func predictor(batch: Int) throws -> NetworkPredictor {
        try NetworkPredictor(net: net, weights: weights.pointer, batch: batch, height: height, width: width)
    }

    /// Inference memory of a batch (the EMA weights counted once).
    public func memory(batch: Int) throws -> Int {
        let plan = try UNetWorkspace.plannedMemory(
            net, batch: batch, height: height, width: width, mixedPrecision: false, training: false)
        return plan.totalBytes - plan.parameterBytes + 4 * net.parameterCount
    }
}
