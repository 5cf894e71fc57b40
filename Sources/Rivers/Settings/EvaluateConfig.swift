// `rivers evaluate`'s section: the classifier recipe every arm shares, the seeds, and where the
// results go (EVALUATE.md).
import Foundation

public struct EvaluateConfig: ConfigSection {
    public var out = "evaluation.json"
    public var seeds = 5
    public var seed: UInt64 = 42
    public var steps = 1500
    public var batchSize = 32
    public var imageSize = [64, 192]
    public var learningRate = 1e-3
    public var weightDecay = 1e-4
    public var bootstrap = 1000

    public init() {}
    public static let name = "evaluate"

    public static let settings: [Setting<EvaluateConfig>] = [
        Setting(
            "out", "the results as JSON (a table of them is printed; rivers report --evaluation shows them)", \.out,
            placeholder: "FILE", range: .nonEmpty),
        // Up to 100 seeds: the t quantiles and the paired tests need at least 2 for an interval.
        Setting(
            "seeds", "classifiers per arm (weights, batch order, flips); 95% intervals need 2 or more", \.seeds,
            range: .within(1...100)),
        Setting(SharedSettings.seed.help("base seed: run s of every arm uses the same derived seed"), \.seed),
        // Steps times batch bound the images drawn (10^6 x 1024 < 2^31 per run).
        Setting(
            "steps", "optimizer steps of every classifier (the same for every arm, whatever its size)", \.steps,
            range: .within(1...1_000_000)),
        Setting(SharedSettings.batchSize.help("images per classifier step"), \.batchSize),
        // Sides of 16 at least: four stride-2 stages leave 1x1 at worst; 4096 keeps memory sane.
        Setting(
            "image_size", "classifier input height and width (photos are centre-cropped to its ratio, resized)",
            \.imageSize, placeholder: "H W", range: .list(count: 2...2, each: 16...4096)),
        Setting(
            "learning_rate", "AdamW learning rate", \.learningRate, placeholder: "X", range: .between(1e-12, 1)),
        Setting(
            "weight_decay", "AdamW weight decay", \.weightDecay, placeholder: "X", range: .between(0, 1)),
        Setting(
            "bootstrap", "resamples of the test photos for the paired bootstrap interval", \.bootstrap,
            range: .within(100...100_000)),
    ]

    public var height: Int { imageSize[0] }
    public var width: Int { imageSize[1] }

    /// The classifier recipe of these settings.
    public var recipe: ClassifierRecipe {
        ClassifierRecipe(
            steps: steps, batchSize: batchSize, learningRate: Float(learningRate), weightDecay: Float(weightDecay))
    }

    /// The network at these settings for `classes` classes.
    public func classifier(classes: Int) -> ClassifierConfig {
        ClassifierConfig(height: height, width: width, classes: classes)
    }
}
