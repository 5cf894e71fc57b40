// `rivers demo` as a value: the folders, and the exact command line of every step, so the demo
// runs the same commands a user would type and prints them.
import Foundation

public struct DemoPlan: Sendable {
    public let outDir: String
    public let seed: UInt64
    public let quick: Bool
    public let threads: Int
    /// The training settings every label shares (its epochs come from its image count).
    public let train: TrainConfig
    /// Optimizer steps per label: each label's model gets the same amount of training.
    public private(set) var stepsPerLabel: Int
    /// Sample grids per run, spread over its epochs.
    public let gridsPerRun: Int
    /// Generated images per label for the generated-only arm: as many as the label's training
    /// photos (at most `inferImages` with --quick), `inferSteps` sampler steps each.
    public let inferImages: Int, inferSteps: Int, augmentSteps: Int
    /// The synthetic photos: the layout `copies` times (40 photos a copy), at `photoSize`.
    public let copies: Int, photoSize: [Int]
    /// The classifier of evaluate: its settings in the demo (smaller than evaluate's own defaults).
    public let evaluate: EvaluateConfig

    /// `steps`: optimizer steps per label instead of the configuration's own (900, or 24 quick).
    /// A relative `outDir` that starts with a dash (`--weird`) is taken as `./--weird`, so that
    /// every step's paths reach it as values, never as options, and the printed commands work too.
    public init(outDir: String, seed: UInt64, quick: Bool, threads: Int, steps: Int? = nil) {
        self.outDir = outDir.hasPrefix("-") ? "./" + outDir : outDir
        self.seed = seed
        self.quick = quick
        self.threads = threads
        var c = TrainConfig()
        c.outDir = (self.outDir as NSString).appendingPathComponent("models")
        c.seed = seed
        c.batchSize = 4
        c.learningRate = 2e-3
        c.earlyStopping = false
        var e = EvaluateConfig()
        e.out = (self.outDir as NSString).appendingPathComponent("evaluation.json")
        e.seed = seed
        if quick {
            // Seconds, not quality: enough to exercise every step.
            c.imageSize = [16, 48]; c.widths = [16, 32]; c.blockDepth = 1; c.embeddingDims = 32
            c.ema = 0.9; c.imagesToGenerate = 3; c.generateDiffusionSteps = 5
            (stepsPerLabel, gridsPerRun, inferImages, inferSteps, augmentSteps) = (24, 2, 3, 5, 5)
            (copies, photoSize) = (3, [32, 96])
            e.imageSize = [16, 48]; e.steps = 10; e.seeds = 2; e.batchSize = 16
        } else {
            // About 900 steps of a small network at 32x96 is where the scenes become recognisable
            // (stream bed, water, banks); EMA 0.99 averages the last hundred or so of them.
            c.imageSize = [32, 96]; c.widths = [32, 64, 96]; c.blockDepth = 1; c.embeddingDims = 64
            c.ema = 0.99; c.imagesToGenerate = 6; c.generateDiffusionSteps = 20
            (stepsPerLabel, gridsPerRun, inferImages, inferSteps, augmentSteps) = (900, 5, 100_000, 20, 20)
            // 20 copies: 800 photos, so that the test side (a fifth, by camera and day) holds at
            // least 20 photos of every label.
            (copies, photoSize) = (20, [64, 192])
            // The classifier at the diffusion models' 32x96 and 200 steps a run: 21 runs in minutes.
            e.imageSize = [32, 96]; e.steps = 200; e.seeds = 5
        }
        train = c
        evaluate = e
        if let steps { stepsPerLabel = steps }
    }

    func path(_ name: String) -> String { (outDir as NSString).appendingPathComponent(name) }
    public var rawDir: String { path("raw") }
    public var splitDir: String { path("split") }
    public var trainDir: String { (splitDir as NSString).appendingPathComponent("train") }
    public var testDir: String { (splitDir as NSString).appendingPathComponent("test") }
    public var generatedDir: String { path("generated") }
    public var evaluationPath: String { evaluate.out }
    public var diffusionDir: String { path("diffusion_data") }
    public var modelsDir: String { train.outDir }
    public var balancedDir: String { path("balanced_data") }
    public var reportPath: String { path("report.html") }

    /// The label's settings: enough epochs for `stepsPerLabel` steps with `images` training images.
    public func trainConfig(images: Int) -> TrainConfig {
        var c = train
        let perEpoch = max(images / c.batchSize, 1)
        c.numEpochs = max((stepsPerLabel + perEpoch - 1) / perEpoch, 1)
        c.generateOnEpoch = max(c.numEpochs / gridsPerRun, 1)
        return c
    }

    public var synthesizeArguments: [String] {
        [
            "synthesize", "--out_dir", rawDir, "--labels", "6", "--seed", String(seed), "--copies", String(copies),
            "--image_size", String(photoSize[0]), String(photoSize[1]),
        ]
    }

    public var splitArguments: [String] {
        ["split", "--in_dir", rawDir, "--out_dir", splitDir, "--seed", String(seed), "--threads", String(threads)]
    }

    public var balanceArguments: [String] {
        [
            "balance", "--in_dir", trainDir, "--out_dir", outDir, "--labels", "6", "--seed", String(seed), "--threads",
            String(threads),
        ]
    }

    public func trainArguments(folder: String, images: Int) -> [String] {
        ["train", "--in_dir", folder] + trainConfig(images: images).arguments() + ["--threads", String(threads)]
    }

    /// The label's generated images, as many as its training photos (`photos`), into generated/<label>.
    public func inferArguments(run: String, label: Int, photos: Int) -> [String] {
        [
            "infer", "--model_dir", run, "--out_dir", (generatedDir as NSString).appendingPathComponent(String(label)),
            "--images_to_generate", String(max(1, min(inferImages, photos))), "--generate_diffusion_steps",
            String(inferSteps), "--seed", String(seed), "--threads", String(threads),
        ]
    }

    /// How much augment enlarges the models' images to the photos' size (the larger side's ratio).
    public var upscale: Double {
        max(Double(photoSize[0]) / Double(train.height), Double(photoSize[1]) / Double(train.width))
    }

    /// The quick demo's models are tiny by design (a check that everything runs, not a dataset
    /// for a classifier), so its augment passes --allow_upscale: a quick demo at any photo size
    /// still runs. The full demo keeps augment's limit.
    public var allowsUpscale: Bool { quick }

    /// The models' size, the photos' and the factor: "16x48 images upscaled 2x to 32x96".
    public var upscaleText: String {
        "\(train.height)x\(train.width) images upscaled \(formatNumber(upscale))x to \(photoSize[0])x\(photoSize[1])"
    }

    public func augmentArguments(runs: [String]) -> [String] {
        ["augment", "--in_dir", trainDir, "--weight_paths"] + runs + [
            "--out_dir", balancedDir, "--generate_diffusion_steps", String(augmentSteps),
            "--seed", String(seed), "--threads", String(threads),
        ] + (allowsUpscale ? ["--allow_upscale"] : [])
    }

    /// The four arms of EVALUATE.md: real photos, after balance, after augment, generated only.
    public var evaluateArguments: [String] {
        ["evaluate", "--test_dir", testDir, "--train_dirs", trainDir, diffusionDir, balancedDir, generatedDir]
            + ["--names", "real", "balanced", "augmented", "generated"] + evaluate.arguments(from: EvaluateConfig())
            + ["--threads", String(threads)]
    }

    public var reportArguments: [String] {
        [
            "report", "--model_dir", modelsDir, "--dataset", outDir, "--evaluation", evaluationPath, "--out",
            reportPath,
            "--label_measure", "--title", "rivers demo",
        ]
    }

    /// The demo writes only into a folder that is new or empty, so it never mixes with or replaces anything.
    public static func checkFolder(_ out: String) throws {
        guard FileManager.default.fileExists(atPath: out) else {
            let parent = FileOps.parent(out)
            if !parent.isEmpty, FileManager.default.fileExists(atPath: parent), !FileOps.isDirectory(parent) {
                throw RiversError.file(path: parent, reason: "is not a folder; choose another --out_dir")
            }
            return
        }
        guard FileOps.isDirectory(out) else {
            throw RiversError.file(path: out, reason: "exists and is not a folder; choose another --out_dir")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        if !names.isEmpty {
            throw RiversError.file(
                path: out,
                reason:
                    "exists and is not empty; the demo writes only into a new or empty folder (remove it, or choose another --out_dir)"
            )
        }
    }

    /// A command line as a shell would take it (words with spaces or quotes quoted).
    public static func shellLine(_ words: [String]) -> String {
        (["rivers"] + words).map { w in
            w.isEmpty || w.contains(where: { " \"'$\\*?&;|<>()".contains($0) })
                ? "'" + w.replacingOccurrences(of: "'", with: "'\\''") + "'" : w
        }.joined(separator: " ")
    }
}
