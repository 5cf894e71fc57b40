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
    public let inferImages: Int, inferSteps: Int, augmentSteps: Int

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
        if quick {
            // Seconds, not quality: enough to exercise every step.
            c.imageSize = [16, 48]; c.widths = [16, 32]; c.blockDepth = 1; c.embeddingDims = 32
            c.ema = 0.9; c.imagesToGenerate = 3; c.generateDiffusionSteps = 5
            (stepsPerLabel, gridsPerRun, inferImages, inferSteps, augmentSteps) = (24, 2, 3, 5, 5)
        } else {
            // About 900 steps of a small network at 32x96 is where the scenes become recognisable
            // (stream bed, water, banks); EMA 0.99 averages the last hundred or so of them.
            c.imageSize = [32, 96]; c.widths = [32, 64, 96]; c.blockDepth = 1; c.embeddingDims = 64
            c.ema = 0.99; c.imagesToGenerate = 6; c.generateDiffusionSteps = 20
            (stepsPerLabel, gridsPerRun, inferImages, inferSteps, augmentSteps) = (900, 5, 6, 30, 30)
        }
        train = c
        if let steps { stepsPerLabel = steps }
    }

    func path(_ name: String) -> String { (outDir as NSString).appendingPathComponent(name) }
    public var rawDir: String { path("raw") }
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
        ["synthesize", "--out_dir", rawDir, "--labels", "6", "--seed", String(seed)]
    }

    public var balanceArguments: [String] {
        [
            "balance", "--in_dir", rawDir, "--out_dir", outDir, "--labels", "6", "--seed", String(seed), "--threads",
            String(threads),
        ]
    }

    public func trainArguments(folder: String, images: Int) -> [String] {
        ["train", "--in_dir", folder] + trainConfig(images: images).arguments() + ["--threads", String(threads)]
    }

    public func inferArguments(run: String) -> [String] {
        [
            "infer", "--model_dir", run, "--images_to_generate", String(inferImages), "--generate_diffusion_steps",
            String(inferSteps),
            "--seed", String(seed), "--threads", String(threads),
        ]
    }

    public func augmentArguments(runs: [String]) -> [String] {
        ["augment", "--in_dir", rawDir, "--weight_paths"] + runs + [
            "--out_dir", balancedDir, "--generate_diffusion_steps", String(augmentSteps),
            "--seed", String(seed), "--threads", String(threads),
        ]
    }

    public var reportArguments: [String] {
        [
            "report", "--model_dir", modelsDir, "--dataset", outDir, "--out", reportPath, "--label_measure", "--title",
            "rivers demo",
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
