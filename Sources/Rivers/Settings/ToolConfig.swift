// The sections of the commands around the pipeline: `report`, `demo` and `synthesize`.
import Foundation

/// `rivers report`'s section.
public struct ReportConfig: ConfigSection {
    public var out = "report.html"
    public var title = "rivers report"
    public var labelMeasure = false

    public init() {}
    public static let name = "report"
    public static let settings: [Setting<ReportConfig>] = [
        Setting("out", "the HTML file to write", \.out, placeholder: "FILE", range: .nonEmpty),
        Setting("title", "the page's title", \.title, placeholder: "TEXT"),
        Setting(
            "label_measure",
            "add the water-fraction label measure (meaningful for the synthetic scenes of rivers synthesize)",
            \.labelMeasure, flag: true),
    ]
}

/// `rivers demo`'s section.
public struct DemoConfig: ConfigSection {
    public var outDir = "demo"
    public var seed: UInt64 = 42
    public var quick = false
    /// Optimizer steps per label; nil: the demo's own (900, or 24 with --quick).
    public var steps: Int? = nil

    public init() {}
    public static let name = "demo"
    public static let settings: [Setting<DemoConfig>] = [
        Setting(SharedSettings.outDir.help("a new or empty folder for everything the demo makes"), \.outDir),
        Setting(SharedSettings.seed.help("seed of the scenes, the training and the generated images"), \.seed),
        Setting("quick", "tiny models and few steps: the pipeline end to end in seconds", \.quick, flag: true),
        Setting(
            "steps", "optimizer steps per label (default: 900, or 24 with --quick); more steps, better images", \.steps,
            range: .within(1...1_000_000)),
    ]
}

/// `rivers synthesize`'s section.
public struct SynthesizeConfig: ConfigSection {
    public var labels = 6
    public var imageSize = [200, 600]
    public var seed: UInt64 = 42
    public var copies = 1

    public init() {}
    public static let name = "synthesize"
    /// Balance's limit on decoded images: 2^28 pixels.
    public static let maximumPixels = 1 << 28
    public static let settings: [Setting<SynthesizeConfig>] = [
        Setting(SharedSettings.labels, \.labels),
        Setting(
            "image_size", "height and width", \.imageSize, placeholder: "H W",
            range: .list(count: 2...2, each: 1...65_500)),
        Setting(SharedSettings.seed.help("seed of the scenes"), \.seed),
        // 28 copies: one day each of a month (the dates stay valid); 40 photos a copy.
        Setting(
            "copies",
            "the layout repeated, each copy on its own day (40 photos each): enough photos to hold some out for evaluate",
            \.copies, range: .within(1...28)),
    ]

    public func validateTogether() throws {
        // Both sides are at most 65500 (JPEG's largest), so the product cannot overflow.
        guard imageSize[0] * imageSize[1] <= Self.maximumPixels else {
            throw Self.refuse(
                "image_size",
                "\(imageSize[0]) \(imageSize[1]) has \(imageSize[0] * imageSize[1]) pixels; the largest image is \(Self.maximumPixels) pixels (what balance reads)"
            )
        }
    }
}
