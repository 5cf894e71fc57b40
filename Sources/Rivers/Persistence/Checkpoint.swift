// Checkpoints: a trainer's whole state as one safetensors file (weights, EMA weights, both
// AdamW moments, normalizer; step, epoch and configuration as metadata). The step keys every
// random draw of the next one, so no generator state is saved.
import Foundation

/// Tensor names: `weights/<param>`, `ema/<param>`, `adam_m/<param>`, `adam_v/<param>`
/// (parameter names as `UNet.layout` declares them, e.g. `down.0.1.conv2.weight`, layouts as
/// docs/model.md: convolutions [kh, kw, in, out], transposed ones [kh, kw, out, in], dense [in, out]),
/// and `normalizer/mean`, `normalizer/variance` [3].
public enum Checkpoint {
    public static let format = "rivers-checkpoint-1"

    /// What a checkpoint records besides the tensors.
    public struct State: Equatable {
        public var config: UNetConfig
        public var epoch: Int
        public var step: Int
        public var extra: [String: String]
    }

    static let prefixes: [(String, KeyPath<ParameterSlab, FloatBuffer>)] = [
        ("weights", \.values), ("ema", \.ema), ("adam_m", \.adamM), ("adam_v", \.adamV),
    ]

    /// The file's bytes for `trainer` after `epoch` epochs; `extra` is saved as metadata.
    public static func encode(_ trainer: DiffusionTrainer, epoch: Int, extra: [String: String] = [:]) throws -> Data {
        let slab = trainer.slab
        var entries: [SafeTensors.Entry] = []
        for (prefix, path) in prefixes {
            let buffer = slab[keyPath: path]
            for p in slab.layout.params {
                entries.append(.init(name: "\(prefix)/\(p.name)", shape: p.shape, pointer: buffer.pointer + p.offset))
            }
        }
        // snake_case, the keys of config.json's train section (earlier checkpoints' camelCase still loads).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = String(decoding: try encoder.encode(trainer.net.config), as: UTF8.self)
        var metadata = extra
        metadata["format"] = format
        metadata["config"] = config
        metadata["epoch"] = String(epoch)
        metadata["step"] = String(trainer.optimizer.step)
        metadata["seed"] = String(trainer.seed)
        return try trainer.normalizer.mean.withUnsafeBufferPointer { mean in
            try trainer.normalizer.variance.withUnsafeBufferPointer { variance in
                entries.append(.init(name: "normalizer/mean", shape: [3], pointer: mean.baseAddress!))
                entries.append(.init(name: "normalizer/variance", shape: [3], pointer: variance.baseAddress!))
                return try SafeTensors.encode(entries, metadata: metadata)
            }
        }
    }

    /// Writes the checkpoint atomically: a crash at any moment leaves the previous file whole.
    public static func save(_ trainer: DiffusionTrainer, epoch: Int, extra: [String: String] = [:], to path: String)
        throws
    {
        try FileOps.replaceAtomically(try encode(trainer, epoch: epoch, extra: extra), at: path)
    }

    /// Reads the checkpoint at `path` and its state; a network other than `network` is an error
    /// naming the file, with `mismatch(saved)` as the reason.
    static func read(
        _ path: String, network: UNetConfig, mismatch: (UNetConfig) -> String
    ) throws -> (file: SafeTensors.File, state: State) {
        let file = try SafeTensors.read(path)
        let state = try state(of: file, path: path)
        guard state.config == network else { throw RiversError.file(path: path, reason: mismatch(state.config)) }
        return (file, state)
    }

    /// The configuration and counters of a checkpoint file, without touching a trainer.
    public static func state(of file: SafeTensors.File, path: String) throws -> State {
        let m = file.metadata
        guard m["format"] == format else {
            throw RiversError.file(path: path, reason: "not a rivers checkpoint (format \(m["format"] ?? "missing"))")
        }
        guard let text = m["config"], let config = try? JSONDecoder().decode(UNetConfig.self, from: Data(text.utf8)),
            let epoch = m["epoch"].flatMap(Int.init), let step = m["step"].flatMap(Int.init)
        else {
            throw RiversError.file(path: path, reason: "checkpoint metadata lacks config, epoch or step")
        }
        return State(
            config: config, epoch: epoch, step: step,
            extra: m.filter { !["format", "config", "epoch", "step", "rng", "seed"].contains($0.key) })
    }

    /// The EMA weights (in `layout`'s order) and the normalizer of a checkpoint, for generation:
    /// one buffer, not the five of training. Every tensor is checked before any is copied; a
    /// configuration other than `config` is an error naming the file.
    public static func loadEMA(_ path: String, config: UNetConfig, layout: ParameterLayout) throws -> (
        weights: FloatBuffer, normalizer: Normalizer, state: State
    ) {
        let (file, state) = try read(path, network: config) {
            "was trained with another network configuration than its run's config.json (\($0))"
        }
        let normalizer = try checkTensors(file, path: path, prefixes: ["ema"], layout: layout)
        let weights = FloatBuffer(count: layout.count)
        for p in layout.params {
            file.tensors["ema/\(p.name)"]!.values.withUnsafeBufferPointer {
                (weights.pointer + p.offset).update(from: $0.baseAddress!, count: p.count)
            }
        }
        return (weights, normalizer, state)
    }

    /// The checkpoint `rivers train --init_from SOURCE` starts from: SOURCE's `last.safetensors`
    /// when it is a run directory, else the checkpoint file itself; checked against `network`
    /// (configuration, tensor names and shapes) before any run is created, so that a refusal
    /// leaves nothing behind.
    public static func initSource(_ source: String, network: UNetConfig) throws -> (path: String, state: State) {
        let path = FileOps.isDirectory(source) ? RunDirectory(source).lastCheckpoint : source
        guard FileManager.default.fileExists(atPath: path) else {
            throw RiversError.file(
                path: path, reason: "missing: --init_from needs a run with a checkpoint (or a checkpoint file)")
        }
        let (file, state) = try read(path, network: network) {
            "was trained with \($0.summary); the new run's network has \(network.summary): --init_from needs the same widths, depth, embedding and attention"
        }
        _ = try checkTensors(file, path: path, prefixes: ["weights", "ema"], layout: try UNet(network).layout)
        return (FileOps.canonicalPath(path), state)
    }

    /// Copies the weights and the EMA of `path` into `trainer` and nothing else: its optimizer
    /// (moments and step), normalizer and generator stay those of a new run (`rivers train
    /// --init_from`). The network must be the same; the image size may differ (the U-Net has no
    /// positional input). Every tensor is checked before any is copied.
    @discardableResult
    public static func loadWeights(_ path: String, into trainer: DiffusionTrainer) throws -> State {
        let (file, state) = try read(path, network: trainer.net.config) {
            "was trained with \($0.summary); this run's network has \(trainer.net.config.summary)"
        }
        let chosen = prefixes.filter { ["weights", "ema"].contains($0.0) }
        _ = try checkTensors(file, path: path, prefixes: chosen.map(\.0), layout: trainer.slab.layout)
        copy(file, chosen, into: trainer.slab)
        return state
    }

    /// Copies the tensors of `chosen` (checked before) from `file` into their slab buffers.
    static func copy(
        _ file: SafeTensors.File, _ chosen: [(String, KeyPath<ParameterSlab, FloatBuffer>)], into slab: ParameterSlab
    ) {
        for (prefix, keyPath) in chosen {
            let buffer = slab[keyPath: keyPath]
            for p in slab.layout.params {
                file.tensors["\(prefix)/\(p.name)"]!.values.withUnsafeBufferPointer {
                    (buffer.pointer + p.offset).update(from: $0.baseAddress!, count: p.count)
                }
            }
        }
    }

    /// Restores every slab buffer, the normalizer, the optimizer's step and the generator of
    /// `trainer` (built with the same configuration) from `path`. Returns the saved state.
    @discardableResult
    public static func load(_ path: String, into trainer: DiffusionTrainer) throws -> State {
        let (file, state) = try read(path, network: trainer.net.config) {
            "was trained with another network configuration (\($0))"
        }
        let slab = trainer.slab
        // Everything is checked before anything is copied: a bad file leaves the trainer as it was.
        let normalizer = try checkTensors(file, path: path, prefixes: prefixes.map(\.0), layout: slab.layout)
        copy(file, prefixes, into: slab)
        trainer.normalizer = normalizer
        trainer.optimizer.step = state.step
        // The draws of the next step are keyed by (seed, step): both come back. (Checkpoints
        // written before the seed was saved keep the trainer's own.)
        if let seed = file.metadata["seed"].flatMap({ UInt64($0) }) { trainer.seed = seed }
        return state
    }

    /// Checks that `file` holds every `<prefix>/<param>` tensor of `layout` with its shape, and
    /// the normalizer's statistics, throwing an error naming `path` otherwise; returns the normalizer.
    /// Every value must be finite, and weights (current and EMA) at most `largestWeight` in
    /// magnitude; the normalizer's means finite and its variances finite and not negative.
    static func checkTensors(_ file: SafeTensors.File, path: String, prefixes: [String], layout: ParameterLayout) throws
        -> Normalizer
    {
        for prefix in prefixes {
            let bound = prefix == "weights" || prefix == "ema" ? largestWeight : Float.greatestFiniteMagnitude
            for p in layout.params {
                guard let t = file.tensors["\(prefix)/\(p.name)"], t.shape == p.shape else {
                    throw RiversError.file(
                        path: path, reason: "tensor \(prefix)/\(p.name) is missing or has another shape")
                }
                // AdamW's second moments are averages of squares: never negative.
                let valid: (Float) -> Bool = prefix == "adam_v" ? { $0 >= 0 && $0 <= bound } : { $0.magnitude <= bound }
                if let bad = t.values.first(where: { !valid($0) }) {
                    throw RiversError.file(
                        path: path,
                        reason:
                            "tensor \(prefix)/\(p.name) holds \(bad)\(bad.isFinite ? ", beyond any trained weight (at most \(bound))" : ""): the checkpoint cannot be used"
                    )
                }
            }
        }
        guard let mean = file.tensors["normalizer/mean"], let variance = file.tensors["normalizer/variance"],
            mean.values.count == 3, variance.values.count == 3
        else {
            throw RiversError.file(path: path, reason: "normalizer statistics are missing")
        }
        // Pixels are scaled to 0...1: a mean lies in 0...1 and a variance in 0...1/4 (its largest,
        // half the pixels at 0 and half at 1).
        guard mean.values.allSatisfy({ $0 >= 0 && $0 <= 1 }), variance.values.allSatisfy({ $0 >= 0 && $0 <= 0.25 })
        else {
            throw RiversError.file(
                path: path,
                reason:
                    "normalizer statistics are not a mean and a variance (mean \(mean.values), variance \(variance.values))"
            )
        }
        return Normalizer(mean: mean.values, variance: variance.values)
    }

    /// The largest weight magnitude a checkpoint may hold. Trained weights of this network stay
    /// within a few units (GroupNorm keeps activations of order 1, AdamW's steps are at most the
    /// learning rate, at most 1); 10^6 is far beyond that and far below where a forward pass
    /// overflows Float32 (products of weights and activations summed over at most 2^23 terms).
    public static let largestWeight: Float = 1e6
}
