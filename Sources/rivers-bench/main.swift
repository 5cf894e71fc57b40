// rivers-bench: measured figures for this machine (never part of `swift test`).
import Foundation
import Rivers
import RiversCLI
import RiversCPU

func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

/// Columns padded to their widest cell, the first left-aligned and the figures right-aligned.
func table(_ rows: [[String]]) -> String { textTable(rows, rightAligned: Set(1..<(rows.first?.count ?? 1))) }

/// The benchmarks' own options, rows like every setting's.
struct BenchOptions: SettingGroup {
    var inDir = "../shared/data/river_samples"
    var threads = Parallel.threadCount
    var json = false
    var batch = 8
    var repeats = 3
    var steps = 3
    var winogradTile = 4

    static let name = "rivers-bench"
    static let settings: [Setting<BenchOptions>] = [
        Setting("in_dir", "folder of images", \.inDir, placeholder: "DIR", range: .nonEmpty),
        Setting("threads", "worker threads", \.threads, range: .within(1...256)),
        Setting("json", "print the figures as one JSON object on the last line", \.json, flag: true),
        Setting("batch_size", "batch", \.batch, range: .within(1...1024)),
        Setting("repeats", "timed runs per pass (the best is kept)", \.repeats, range: .within(1...1000)),
        Setting("steps", "timed steps after one warm-up (the median is reported)", \.steps, range: .within(1...1000)),
        Setting(
            "winograd_tile", "Winograd output tile of the stride-1 3x3 forward convolutions (2 or 4)", \.winogradTile,
            range: SettingRange("2 or 4", bounds: 2...4) { $0 == 2 || $0 == 4 }),
    ]
}

let common = BenchOptions.options(["threads", "json"])

/// The model defaults of `train-step` (64x192) and `sample-step` (batch 1).
let trainStepDefaults: TrainConfig = {
    var c = TrainConfig(); c.imageSize = [64, 192]; return c
}()
let sampleStepDefaults: TrainConfig = {
    var c = TrainConfig(); c.batchSize = 1; return c
}()

/// `rivers train`'s model options with the section's defaults, plus `--steps` and the common ones.
func modelOptions(defaults: TrainConfig, without: String? = nil) -> [Option] {
    ModelOptions.options(defaults: defaults).filter { $0.name != without } + BenchOptions.options(["steps"]) + common
}

let sections: [(Command, (ParsedArguments) throws -> [String: Any])] = [
    (
        Command(
            name: "balance", abstract: "augmented 600x200 JPEGs per second (decode, rotate-zoom-crop, encode, write)",
            summary: "",
            options: BenchOptions.options(["in_dir"]) + common
        ) { _ in 0 },
        benchBalance
    ),
    (
        Command(
            name: "peak", abstract: "the FMA peak of this machine (GFLOP/s, all threads and one)", summary: "",
            options: common
        ) { _ in 0 }, benchPeak
    ),
    (
        Command(
            name: "kernels",
            abstract: "each convolution pass of the U-Net's shapes: GFLOP/s and % of the measured peak", summary: "",
            options: BenchOptions.options(["batch_size", "repeats"]) + common
        ) { _ in 0 },
        benchKernels
    ),
    (
        Command(
            name: "train-step",
            abstract: "one training step of the U-Net (forward, backward, AdamW, EMA): seconds, GFLOP/s, memory",
            summary: "",
            options: modelOptions(defaults: trainStepDefaults)
        ) { _ in 0 }, benchTrainStep
    ),
    (
        Command(
            name: "sample-step",
            abstract: "one sampling step (a forward pass with the EMA weights): seconds, GFLOP/s, memory", summary: "",
            options: modelOptions(defaults: sampleStepDefaults, without: "use_mix_precision")
                + BenchOptions.options(["winograd_tile"])
        ) { _ in 0 }, benchSampleStep
    ),
    (
        Command(
            name: "winograd-error",
            abstract: "generation with Winograd F(4x4, 3x3) against F(2x2, 3x3) on a trained run's weights",
            summary: "", options: WinogradErrorOptions.options(required: ["model_dir"]) + common
        ) { _ in 0 }, benchWinogradError
    ),
    (
        Command(
            name: "sampler-error",
            abstract: "each sampler's distance to the ODE's image in 5 to 50 steps, on a trained run's weights",
            summary: "", options: SamplerErrorOptions.options(required: ["model_dir"]) + common
        ) { _ in 0 }, benchSamplerError
    ),
    (
        Command(
            name: "export-reference",
            abstract: "rivers' forward pass of an export on a fixed input, for docs/load_export.py to compare with",
            summary: "", options: ExportReferenceOptions.options(required: ["export", "out"]) + common
        ) { _ in 0 }, benchExportReference
    ),
    (
        Command(
            name: "classifier-step",
            abstract: "one training step of evaluate's classifier (64x192): seconds, GFLOP/s, % of peak", summary: "",
            options: BenchOptions.options(["batch_size", "steps"], defaults: classifierBenchDefaults) + common
        ) { _ in 0 }, benchClassifierStep
    ),
]

// The kernel path, as rivers chooses it (RIVERS_ISA forces one).
switch KernelPath.select(cpu: .current, environment: ProcessInfo.processInfo.environment["RIVERS_ISA"]) {
case .success(let isa): KernelPath.current = isa
case .failure(let problem):
    FileHandle.standardError.write("rivers-bench: error: \(problem)\n".data(using: .utf8)!)
    exit(2)
}

var argv = Array(CommandLine.arguments.dropFirst())
func usage() -> String {
    (["usage: rivers-bench <section> [options] [--json]", "", "sections:"]
        + sections.map {
            let width = (sections.map(\.0.name.count).max() ?? 0) + 2
            return "  \($0.0.name.padding(toLength: width, withPad: " ", startingAt: 0))\($0.0.abstract)"
        }).joined(
            separator: "\n")
}
guard let name = argv.first, !name.hasPrefix("-") else { print(usage()); exit(argv.isEmpty ? 0 : 2) }
guard let (command, run) = sections.first(where: { $0.0.name == name }) else {
    FileHandle.standardError.write("rivers-bench: error: unknown section '\(name)'\n\(usage())\n".data(using: .utf8)!)
    exit(2)
}
do {
    let args = try command.parse(Array(argv.dropFirst()))
    if args.wantsHelp { print(command.usage); exit(0) }
    let options = try args.resolve(BenchOptions())
    Parallel.threadCount = options.threads
    let result = try run(args)
    if options.json {
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
    }
} catch {
    FileHandle.standardError.write("rivers-bench: error: \(error)\n".data(using: .utf8)!)
    exit(1)
}
