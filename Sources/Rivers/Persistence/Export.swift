// `rivers export`: a trained run's EMA weights as one weights-only safetensors file, for use
// outside rivers (docs/python.md loads one into the PyTorch twin of the network).
import Foundation

/// An export holds what generation needs and nothing of training (no current weights, no
/// optimizer moments: about a quarter of a checkpoint):
///
/// - one tensor per parameter, the EMA weights, under the parameter's name as `UNet.layout`
///   declares it (`stem.weight`, `down.0.1.conv2.weight`, `up.0.upsample.bias`, ...; no prefix),
///   in Keras' layouts (docs/model.md): convolutions [kh, kw, in, out], transposed convolutions
///   [kh, kw, out, in], dense [in, out]; images are NHWC;
/// - `normalizer/mean` and `normalizer/variance` [3]: the training images' RGB statistics in
///   [0, 1], with which images are normalized before the network and denormalized after;
/// - metadata (strings): `format` (`rivers-export-1`), `config` (the run's resolved settings as
///   JSON, the keys of config.json's `train` section, snake_case), `label`, `epoch`, `step`,
///   `checkpoint` (best or last), `weights` (`ema`) and `layout`.
public enum Export {
    public static let format = "rivers-export-1"
    public static let layoutNote =
        "NHWC images; conv kernels [kh, kw, in, out], transposed conv kernels [kh, kw, out, in], dense [in, out]"

    /// The export's bytes for a loaded run.
    public static func encode(_ model: TrainedModel, checkpoint: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let metadata = [
            "format": format,
            "config": String(decoding: try encoder.encode(model.record.train), as: UTF8.self),
            "label": String(model.record.label), "epoch": String(model.epoch), "step": String(model.step),
            "checkpoint": checkpoint, "weights": "ema", "layout": layoutNote,
        ]
        var entries = model.net.layout.params.map {
            SafeTensors.Entry(name: $0.name, shape: $0.shape, pointer: model.weights.pointer + $0.offset)
        }
        return try model.normalizer.mean.withUnsafeBufferPointer { mean in
            try model.normalizer.variance.withUnsafeBufferPointer { variance in
                entries.append(.init(name: "normalizer/mean", shape: [3], pointer: mean.baseAddress!))
                entries.append(.init(name: "normalizer/variance", shape: [3], pointer: variance.baseAddress!))
                return try SafeTensors.encode(entries, metadata: metadata)
            }
        }
    }

    /// Refuses an `out` that exists (a file, a folder or a link): an export never replaces anything.
    public static func checkNew(_ out: String) throws {
        var st = stat()
        if lstat(out, &st) == 0 {
            throw RiversError.file(
                path: out, reason: "already exists; rivers export never overwrites (remove it or choose another --out)")
        }
    }

    /// Writes the export of `model` to `out`: flushed to a temporary file beside it, then linked
    /// into place, so that `out` is whole or absent and an existing file is never replaced.
    /// Creates `out`'s folder when needed. Returns the bytes written.
    @discardableResult
    public static func write(_ model: TrainedModel, checkpoint: String, to out: String) throws -> Int {
        try checkNew(out)
        let data = try encode(model, checkpoint: checkpoint)
        let folder = FileOps.parent(out)
        if !folder.isEmpty { try FileOps.makeDirectory(folder) }
        do {
            try FileOps.writeNew(data, to: out, sync: true)
        } catch RiversError.exists(_) {
            try checkNew(out)  // taken meanwhile: the same one-line refusal
        }
        return data.count
    }

    /// An export read back: its run's settings, label and counters, the network built from them
    /// with the EMA weights in its layout's order, and the normalizer.
    public struct Loaded {
        public let config: TrainConfig
        public let label: Int, epoch: Int, step: Int
        public let net: UNet
        public let weights: FloatBuffer
        public let normalizer: Normalizer
    }

    /// Reads an export; any file that is not one (another format, settings that do not parse,
    /// a tensor missing or of another shape) is an error naming it.
    public static func read(_ path: String) throws -> Loaded {
        let file = try SafeTensors.read(path)
        let m = file.metadata
        guard m["format"] == format else {
            throw RiversError.file(path: path, reason: "not a rivers export (format \(m["format"] ?? "missing"))")
        }
        guard let text = m["config"], let label = m["label"].flatMap(Int.init),
            let epoch = m["epoch"].flatMap(Int.init),
            let step = m["step"].flatMap(Int.init)
        else {
            throw RiversError.file(path: path, reason: "export metadata lacks config, label, epoch or step")
        }
        let config: TrainConfig
        do {
            config = try JSONDecoder().decode(TrainConfig.self, from: Data(text.utf8))
        } catch let e as RiversError {
            throw e.from(file: path)
        } catch {
            throw RiversError.file(path: path, reason: "its config is not a train section's settings")
        }
        let net = try UNet(config.network)
        let weights = FloatBuffer(count: net.layout.count)
        for p in net.layout.params {
            guard let t = file.tensors[p.name], t.shape == p.shape else {
                throw RiversError.file(path: path, reason: "tensor \(p.name) is missing or has another shape")
            }
            t.values.withUnsafeBufferPointer {
                (weights.pointer + p.offset).update(from: $0.baseAddress!, count: p.count)
            }
        }
        guard let mean = file.tensors["normalizer/mean"], let variance = file.tensors["normalizer/variance"],
            mean.values.count == 3, variance.values.count == 3
        else {
            throw RiversError.file(path: path, reason: "normalizer statistics are missing")
        }
        return Loaded(
            config: config, label: label, epoch: epoch, step: step, net: net, weights: weights,
            normalizer: Normalizer(mean: mean.values, variance: variance.values))
    }
}

extension Export.Loaded {
    public var height: Int { config.height }
    public var width: Int { config.width }

    /// The network's predicted noise for `images` ([N, H, W, 3], normalized noisy images) at
    /// per-image noise `variances` [N]: one inference forward pass as generation runs it.
    public func predictNoise(images: [Float], variances: [Float]) throws -> [Float] {
        let ws = try UNetWorkspace(
            net, batch: variances.count, height: height, width: width, mixedPrecision: false, training: false)
        return net.predictNoise(ws, LayerContext(weights: weights.pointer), images: images, variances: variances)
    }

    /// A fixed input for comparing the network with another implementation of it: `batch`
    /// images of seeded standard normal values (as a sampler's first state) and variances
    /// spread over 0.05 ... 0.95.
    public func referenceInput(batch: Int) -> (images: [Float], variances: [Float]) {
        var rng = SeededGenerator(seed: 1, stream: ["export reference"])
        let images = (0..<(batch * height * width * 3)).map { _ in rng.normal() }
        let variances = (0..<batch).map { b in Float(0.05 + 0.9 * Double(b) / Double(max(batch - 1, 1))) }
        return (images, variances)
    }
}
