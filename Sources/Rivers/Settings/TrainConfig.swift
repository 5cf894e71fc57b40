// `rivers train`'s section: PIPELINE.md section 2 with the original's names and defaults, and
// the ranges that keep every size computed from them far from overflow.
import Foundation

public struct TrainConfig: ConfigSection {
    public var outDir = "models"
    public var imageSize = [200, 600]
    public var numEpochs = 300
    public var batchSize = 8
    public var learningRate = 1e-5
    public var useMixPrecision = false
    public var embeddingDims = 256
    public var widths = [64, 96, 128, 256]
    public var blockDepth = 3
    public var attentionInBottleneck = false
    public var attentionInUpDownSample = false
    public var imagesToGenerate = 5
    public var sampler = SamplerKind.ddim.rawValue
    public var spacing = TimeSpacing.time.rawValue
    public var generateDiffusionSteps = 30
    public var eta = 0.0
    public var seed: UInt64 = 42
    public var validationSplit = 0.0
    public var ema = 0.999
    public var minSignalRate = 0.01
    public var maxSignalRate = 0.95
    public var earlyStopping = true
    public var generateOnEpoch = 0

    public init() {}
    public static let name = "train"

    /// The settings that shape the network and its memory (shared with the benchmarks).
    public static let modelSettingNames: Set<String> = [
        "image_size", "widths", "block_depth", "embedding_dims", "attention_in_bottleneck",
        "attention_in_up_down_sample", "batch_size", "use_mix_precision",
    ]

    public static let settings: [Setting<TrainConfig>] = [
        Setting(SharedSettings.outDir.help("where the run directory L<label>_<time>/ is created"), \.outDir),
        // Sides up to 8192 (2^26 pixels at most): with batches of 1024 and widths up to 2048 every
        // activation's byte count stays below 2^62.
        Setting(
            "image_size", "image height and width", \.imageSize, placeholder: "H W",
            range: .list(count: 2...2, each: 2...8192)),
        // Epochs times steps per epoch (images / batch, at most 10^8) stays below 10^15.
        Setting(
            "num_epochs", "epochs of the whole run (when resuming: the total, not more)", \.numEpochs,
            range: .within(1...1_000_000)),
        Setting(SharedSettings.batchSize, \.batchSize),
        // Below 1e-12 the update (and a tenth of it, the weight decay) vanishes in Float32 sums.
        Setting(
            "learning_rate", "AdamW learning rate (weight decay is a tenth of it)", \.learningRate, placeholder: "X",
            range: .between(1e-12, 1)),
        Setting(
            "use_mix_precision",
            "keep activations for the backward pass as Float16 (compute stays Float32): about a quarter less memory at about the same speed",
            \.useMixPrecision, flag: true),
        Setting("embedding_dims", "size of the noise embedding (even)", \.embeddingDims, range: .within(2...2048)),
        // Up to 8 levels of up to 2048 channels: parameter counts stay below 2^40.
        Setting(
            "widths", "channel widths of the U-Net's levels (multiples of 8)", \.widths, placeholder: "W",
            range: .list(count: 1...8, each: 8...2048)),
        Setting("block_depth", "residual blocks per level", \.blockDepth, range: .within(1...16)),
        Setting(
            "attention_in_bottleneck", "4-head attention after each bottleneck block", \.attentionInBottleneck,
            flag: true),
        Setting(
            "attention_in_up_down_sample", "1-head attention after each down and up block", \.attentionInUpDownSample,
            flag: true),
        Setting(
            SharedSettings.imagesToGenerate.help(
                "images generated with the EMA weights at the end (and in sample grids); 0: none"
            )
            .ranged(.within(0...100_000)), \.imagesToGenerate),
        Setting(
            SharedSettings.sampler.help("sampler of those generations: ddim, or dpmpp2m (DPM-Solver++(2M))"), \.sampler),
        Setting(SharedSettings.spacing, \.spacing),
        Setting(
            SharedSettings.generateDiffusionSteps.help("sampler steps of those generations"), \.generateDiffusionSteps),
        Setting(
            SharedSettings.eta.help(
                "DDIM eta of those generations: 0 deterministic (what the original really did), 1 DDPM-like"), \.eta),
        Setting(SharedSettings.seed.help("seed of weights, shuffles, noise and diffusion times"), \.seed),
        Setting(
            "validation_split", "fraction of the images held out for val_ metrics (0: none)", \.validationSplit,
            placeholder: "X",
            range: .between(0, 1, highOpen: true)),
        Setting("ema", "decay of the EMA weights that generate", \.ema, placeholder: "X", range: .between(0, 1)),
        Setting(
            "min_signal_rate", "signal rate at diffusion time 1", \.minSignalRate, placeholder: "X",
            range: .between(0, 1, lowOpen: true, highOpen: true)),
        Setting(
            "max_signal_rate", "signal rate at diffusion time 0", \.maxSignalRate, placeholder: "X",
            range: .between(0, 1, lowOpen: true, highOpen: true)),
        Setting(
            "early_stopping", "stop when n_loss stops improving (from epoch ceil(epochs/2), patience ceil(that/4))",
            \.earlyStopping),
        Setting(
            "generate_on_epoch", "write a sample grid every N epochs (0: never)", \.generateOnEpoch,
            range: .within(0...1_000_000)),
    ]

    public var height: Int { imageSize.count == 2 ? imageSize[0] : 0 }
    public var width: Int { imageSize.count == 2 ? imageSize[1] : 0 }
    public var network: UNetConfig {
        UNetConfig(
            widths: widths, blockDepth: blockDepth, embeddingDims: embeddingDims,
            attentionInBottleneck: attentionInBottleneck, attentionInUpDownSample: attentionInUpDownSample)
    }
    public var schedule: CosineSchedule { CosineSchedule(minSignalRate: minSignalRate, maxSignalRate: maxSignalRate) }

    /// The settings that shape the network and its memory, each in range and together buildable.
    public func validateModel() throws {
        for s in Self.settings where Self.modelSettingNames.contains(s.key) {
            if let reason = s.problem(self) { throw Self.refuse(s.key, reason) }
        }
        try network.validate()
        try network.validate(height: height, width: width)
    }

    /// The sampler of the run's sample grids and final images.
    public var generationSampler: any GenerationSampler {
        SamplerKind.make(sampler, spacing: spacing, schedule: schedule, steps: generateDiffusionSteps, eta: eta)
    }

    public func validateTogether() throws {
        try validateModel()
        try SamplerKind.check(sampler, eta: eta, Self.self)
        guard minSignalRate < maxSignalRate else {
            throw Self.refuse(
                "min_signal_rate",
                "must be below --max_signal_rate, got \(formatNumber(minSignalRate)) and \(formatNumber(maxSignalRate))"
            )
        }
    }
}
