// The settings several sections share, declared once: each section places them with its own
// default and, where it reads better, its own help.
import Foundation

public enum SharedSettings {
    public static let outDir = SettingRow<String>(
        "out_dir", "where the output is written", placeholder: "DIR", range: .nonEmpty)
    public static let labels = SettingRow<Int>(
        "labels", "3: labels 1-3; 6: labels 1-6", range: SettingRange("3 or 6", bounds: 3...6) { $0 == 3 || $0 == 6 })
    public static let seed = SettingRow<UInt64>("seed", "seed of every random choice")
    /// Steps times images bound every progress total and index (10^4 x 10^5 = 10^9).
    public static let generateDiffusionSteps = SettingRow<Int>(
        "generate_diffusion_steps", "sampler steps (network passes) of each generated image", range: .within(1...10_000)
    )
    public static let sampler = SettingRow<String>(
        "sampler", "ddim, or dpmpp2m (DPM-Solver++(2M): deterministic, second order, fewer steps)",
        placeholder: "NAME", range: .oneOf(SamplerKind.allCases.map(\.rawValue)))
    public static let spacing = SettingRow<String>(
        "spacing", "where dpmpp2m's steps fall: time (t uniform) or logSNR (log signal-to-noise uniform)",
        placeholder: "NAME", range: .oneOf(TimeSpacing.allCases.map(\.rawValue)))
    public static let eta = SettingRow<Double>(
        "eta", "DDIM eta: 0 deterministic (what the original produced), 1 DDPM-like noise",
        placeholder: "X", range: .between(0, 1))
    /// File indices of generated images stay far below any overflow (10^5 per run).
    public static let imagesToGenerate = SettingRow<Int>(
        "images_to_generate", "how many images are generated", range: .within(1...100_000))
    public static let checkpoint = SettingRow<String>(
        "checkpoint", "best or last checkpoint of the run", placeholder: "NAME", range: .oneOf(["best", "last"]))
    /// Up to 1024 images per batch: with images of at most 2^26 pixels and widths of at most
    /// 2048, no activation size (batch x pixels x channels x 4 bytes) reaches 2^63.
    public static let batchSize = SettingRow<Int>("batch_size", "images per step", range: .within(1...1024))
    public static let generationBatch = SettingRow<Int?>(
        "batch_size", "images per batch (default: up to 8, as memory allows)", range: .within(1...1024))
}
