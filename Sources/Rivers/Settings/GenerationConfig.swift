// The sections of the commands that generate: `generate` (rivers infer), `augment` and
// `inpaint`. Each holds the same generation settings (rows declared once) with its own defaults.
import Foundation

/// The sampler, its steps, eta, seed, batch and checkpoint: what every generating command shares.
public struct GenerationSettings: Equatable, Sendable {
    /// `ddim` or `dpmpp2m` (DPM-Solver++(2M)), and the spacing of the solver's steps.
    public var sampler = "ddim"
    public var spacing = TimeSpacing.time.rawValue
    public var steps = 30
    public var eta = 0.0
    public var seed: UInt64 = 42
    /// Images per batch; nil: as many as memory allows, up to 8.
    public var batchSize: Int? = nil
    public var checkpoint = "best"

    public init(
        sampler: SamplerKind = .ddim, spacing: TimeSpacing = .time, steps: Int = 30, eta: Double = 0, seed: UInt64 = 42,
        batchSize: Int? = nil, checkpoint: String = "best"
    ) {
        self.sampler = sampler.rawValue; self.spacing = spacing.rawValue
        self.steps = steps; self.eta = eta; self.seed = seed; self.batchSize = batchSize; self.checkpoint = checkpoint
    }

    /// The rows, placed at `path` of a section; `seedHelp` says what the seed fixes there. Without
    /// `samplers` the section runs DDIM only (inpainting: RePaint's jumps need its one-step update).
    static func settings<S>(
        _ path: WritableKeyPath<S, GenerationSettings>, seedHelp: String, batch: Bool = true, samplers: Bool = true
    ) -> [Setting<S>] {
        let choice: [Setting<GenerationSettings>] =
            samplers
            ? [Setting(SharedSettings.sampler, \.sampler), Setting(SharedSettings.spacing, \.spacing)] : []
        let rows: [Setting<GenerationSettings>] =
            choice + [
                Setting(SharedSettings.generateDiffusionSteps, \.steps),
                Setting(SharedSettings.eta, \.eta),
                Setting(SharedSettings.seed.help(seedHelp), \.seed),
            ] + (batch ? [Setting(SharedSettings.generationBatch, \.batchSize)] : []) + [
                Setting(SharedSettings.checkpoint, \.checkpoint)
            ]
        return rows.map { $0.lifted(path) }
    }

    /// The sampler of these settings under a run's schedule.
    public func sampler(_ schedule: CosineSchedule) -> any GenerationSampler {
        SamplerKind.make(sampler, spacing: spacing, schedule: schedule, steps: steps, eta: eta)
    }

    /// The DDIM sampler of these settings (inpainting's).
    public func ddim(_ schedule: CosineSchedule) -> DDIMSampler {
        DDIMSampler(schedule: schedule, steps: steps, eta: eta)
    }

    func validate<S: ConfigSection>(_: S.Type) throws { try SamplerKind.check(sampler, eta: eta, S.self) }
}

/// The samplers of generation.
public enum SamplerKind: String, CaseIterable, Sendable {
    /// DDIM (docs/model.md), eta 0 deterministic to 1 DDPM-like.
    case ddim
    /// DPM-Solver++(2M) (docs/model.md): second order, deterministic, fewer steps for the same image.
    case dpmpp2m

    /// The sampler a section's settings name (`ddim` for any other name: the rows allow no other).
    static func make(_ name: String, spacing: String, schedule: CosineSchedule, steps: Int, eta: Double)
        -> any GenerationSampler
    {
        SamplerKind(rawValue: name) == .dpmpp2m
            ? DPMSolverSampler(schedule: schedule, steps: steps, spacing: TimeSpacing(rawValue: spacing) ?? .time)
            : DDIMSampler(schedule: schedule, steps: steps, eta: eta)
    }

    /// The solver draws no noise: an eta above 0 with it is a mistake, refused.
    static func check<S: SettingGroup>(_ name: String, eta: Double, _: S.Type) throws {
        if SamplerKind(rawValue: name) == .dpmpp2m && eta != 0 {
            throw S.refuse("eta", "applies to --sampler ddim only (dpmpp2m draws no noise), got \(formatNumber(eta))")
        }
    }
}

/// `rivers infer`'s section, `generate`.
public struct GenerateConfig: ConfigSection {
    public var imagesToGenerate = 5
    /// DPM-Solver++(2M) on a logSNR grid, 10 steps: a third of DDIM's 30, and measured 10x closer
    /// to the ODE's image than DDIM with 50 (README, The sampler).
    public var generation = GenerationSettings(sampler: .dpmpp2m, spacing: .logSNR, steps: 10)

    public init() {}
    public static let name = "generate"
    public static let settings: [Setting<GenerateConfig>] =
        [Setting(SharedSettings.imagesToGenerate, \.imagesToGenerate)]
        + GenerationSettings.settings(
            \Self.generation,
            seedHelp: "seed of the noise (image n of a folder draws from (seed, n), so a rerun adds new images)")

    public func validateTogether() throws { try generation.validate(Self.self) }
}

/// `rivers augment`'s section.
public struct AugmentConfig: ConfigSection {
    public var outDir = "balanced_data"
    /// Strengths of the generated images (1: pure generation; below 1: a variation of a real
    /// image, SDEdit) and the share of each.
    public var strengths: [Double] = [1, 0.6]
    public var probs: [Double] = [0.5, 0.5]
    /// Generated images are written at the raw photos' size; a model more than
    /// `AugmentRun.largestUpscale` times smaller is refused unless this is set.
    public var allowUpscale = false
    /// DPM-Solver++(2M) on a logSNR grid, 15 steps: under a third of DDIM's 50 (README, The sampler).
    public var generation = GenerationSettings(sampler: .dpmpp2m, spacing: .logSNR, steps: 15)

    public init() {}
    public init(strengths: [Double], probs: [Double], seed: UInt64 = 42) {
        self.strengths = strengths; self.probs = probs; generation.seed = seed
    }
    public var seed: UInt64 { generation.seed }

    public static let name = "augment"
    public static let settings: [Setting<AugmentConfig>] =
        [
            Setting(SharedSettings.outDir.help("where the balanced dataset is written"), \.outDir),
            Setting(
                "strength", "strengths of generated images: 1 pure generation, below 1 a variation of a real image",
                \.strengths,
                placeholder: "S", range: .list(count: 1...16, each: .between(0, 1, lowOpen: true))),
            Setting(
                "probs", "share of each strength", \.probs, placeholder: "P",
                range: .list(count: 1...16, each: .between(0, 1))),
            Setting(
                "allow_upscale",
                "write images of a model more than 2x smaller than the raw photos (in height or width) upscaled to their size; refused without it, as a classifier can learn that blurry means synthetic",
                \.allowUpscale, flag: true),
        ]
        + GenerationSettings.settings(
            \Self.generation, seedHelp: "seed of the plan's choices and of every image's noise")

    public func validateTogether() throws {
        try generation.validate(Self.self)
        guard strengths.count == probs.count else {
            throw Self.refuse(
                "probs", "needs as many shares as --strength has values (got \(probs.count) and \(strengths.count))")
        }
        let total = probs.reduce(0, +)
        guard abs(total - 1) < 1e-6 else { throw Self.refuse("probs", "must add up to 1, got \(formatNumber(total))") }
        guard Set(strengths).count == strengths.count else {
            throw Self.refuse("strength", "values must differ from each other")
        }
    }
}

/// `rivers inpaint`'s section: RePaint's jumps and the generation settings (eta 1, as RePaint).
public struct InpaintConfig: ConfigSection {
    public var outDir = "inpainted"
    public var jumpLength = 10
    public var jumpSamples = 10
    public var generation = GenerationSettings(steps: 50, eta: 1)

    public init() {}
    public static let name = "inpaint"
    public static let settings: [Setting<InpaintConfig>] =
        [
            Setting(SharedSettings.outDir.help("where the results go"), \.outDir),
            Setting(
                "jump_length", "steps gone back at each jump (at most --generate_diffusion_steps)", \.jumpLength,
                range: .within(1...10_000)),
            // Visits times steps bound the schedule's length: 100 x 10^4 steps.
            Setting("jump_n_sample", "times each jump point is visited", \.jumpSamples, range: .within(1...100)),
        ]
        + GenerationSettings.settings(
            \Self.generation, seedHelp: "seed of the noise (per image name)", batch: false, samplers: false)

    public func validateTogether() throws {
        guard jumpLength <= generation.steps else {
            throw Self.refuse(
                "jump_length", "must be 1 to --generate_diffusion_steps (\(generation.steps)), got \(jumpLength)")
        }
    }
}
