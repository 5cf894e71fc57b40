// `rivers-bench train-step` and `sample-step`: whole U-Net steps, timed, with their FLOPs, the
// planned and measured memory, and the FMA peak measured in the same process.
import Foundation
import Rivers
import RiversCLI
import RiversCPU

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Times `steps` calls of `body` after one warm-up call; prints a table; returns the JSON fields.
func benchSteps(
    _ title: String, model m: ModelOptions, parameters: Int, gflopPerStep: Double, memory: MemoryPlan,
    steps: Int, _ body: () -> Void
) -> [String: Any] {
    let peak = Peak.measurePathGFLOPS(threads: Parallel.threadCount)
    var times: [Double] = []
    let warm = DispatchTime.now().uptimeNanoseconds
    body()
    let warmSeconds = Double(DispatchTime.now().uptimeNanoseconds - warm) / 1e9
    for _ in 0..<steps {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let seconds = median(times)
    let rss = ResourceUsage.peakResidentBytes()
    let peakEnd = Peak.measurePathGFLOPS(threads: Parallel.threadCount)
    let gflops = gflopPerStep / seconds
    let c = m.config
    print(
        "\(title): widths \(c.widths.map(String.init).joined(separator: " ")), depth \(c.blockDepth), embedding \(c.embeddingDims), image \(m.height)x\(m.width), batch \(m.batch)\(m.mixedPrecision ? ", mixed precision" : "")\(c.attentionInBottleneck ? ", bottleneck attention" : "")\(c.attentionInUpDownSample ? ", up/down attention" : "")"
    )
    print(
        "\(Peak.pathWidth) FMA peak measured in this run: \(fmt(peak, 1)) GFLOP/s on \(counted(Parallel.threadCount, "thread")) before, \(fmt(peakEnd, 1)) after (percentages use the first); \(KernelPath.summary())"
    )
    print(
        "GFLOP count the direct convolutions (Winograd does fewer multiplies) and skip the embedding's per-image share")
    print(
        table([
            ["figure", "value"],
            ["parameters", String(parameters)],
            ["seconds per step (median of \(steps))", fmt(seconds, 3)],
            ["seconds per image per step", fmt(seconds / Double(m.batch), 3)],
            ["steps (s)", times.map { fmt($0, 3) }.joined(separator: " ") + " (warm-up \(fmt(warmSeconds, 3)))"],
            ["GFLOP per step", fmt(gflopPerStep, 1)],
            ["GFLOP/s", fmt(gflops, 1)],
            ["% of peak", fmt(100 * gflops / peak, 1)],
            ["planned memory (MiB)", fmt(Double(memory.totalBytes) / 1048576, 1)],
            ["  saved activations", fmt(Double(memory.savedBytes) / 1048576, 1)],
            ["  work buffers", fmt(Double(memory.workBytes) / 1048576, 1)],
            ["  kernel scratch", fmt(Double(memory.scratchBytes) / 1048576, 1)],
            ["  parameters and optimizer", fmt(Double(memory.parameterBytes) / 1048576, 1)],
            ["peak resident memory (MiB)", fmt(Double(rss) / 1048576, 1)],
        ]))
    return [
        "seconds_per_step": seconds, "seconds_per_image": seconds / Double(m.batch), "step_seconds": times,
        "gflop_per_step": gflopPerStep, "gflops": gflops,
        "percent_of_peak": 100 * gflops / peak, "parameters": parameters, "peak_rss_bytes": rss,
        "planned_bytes": memory.totalBytes,
        "peak_gflops": peak, "peak_gflops_end": peakEnd, "threads": Parallel.threadCount,
        "isa": KernelPath.current.rawValue,
        "batch_size": m.batch, "image_size": [m.height, m.width], "mixed_precision": m.mixedPrecision,
    ]
}

/// Random images in [0, 1].
func randomImages(_ count: Int) -> [Float] {
    var rng = SeededGenerator(seed: 7)
    return (0..<count).map { _ in rng.uniform() }
}

/// Refuses a run whose planned memory exceeds the machine's, naming both.
func checkMemory(_ net: UNet, _ m: ModelOptions, training: Bool) throws {
    let planned = try UNetWorkspace.plannedMemory(
        net, batch: m.batch, height: m.height, width: m.width,
        mixedPrecision: m.mixedPrecision, training: training
    ).totalBytes
    let physical = Int(ProcessInfo.processInfo.physicalMemory)
    if planned > physical {
        throw RiversError.usage(
            "the run needs \(planned >> 20) MiB (planned) and this machine has \(physical >> 20) MiB; use a smaller --batch_size or --image_size\(training && !m.mixedPrecision ? ", or --use_mix_precision" : "")"
        )
    }
}

func benchTrainStep(_ args: ParsedArguments) throws -> [String: Any] {
    let m = try ModelOptions(args, defaults: trainStepDefaults)
    let steps = try args.resolve(BenchOptions()).steps
    try checkMemory(try UNet(m.config), m, training: true)
    let trainer = try DiffusionTrainer(
        config: m.config, batch: m.batch, height: m.height, width: m.width, mixedPrecision: m.mixedPrecision)
    let images = randomImages(m.batch * m.height * m.width * 3)
    return benchSteps(
        "training step", model: m, parameters: trainer.net.parameterCount, gflopPerStep: trainer.flopsPerStep / 1e9,
        memory: trainer.workspace.memory, steps: steps
    ) {
        trainer.step(images)
    }
}

func benchSampleStep(_ args: ParsedArguments) throws -> [String: Any] {
    let m = try ModelOptions(args, defaults: sampleStepDefaults)
    let steps = try args.resolve(BenchOptions()).steps
    let net = try UNet(m.config)
    try checkMemory(net, m, training: false)
    let slab = ParameterSlab(layout: net.layout)
    var rng = SeededGenerator(seed: 42)
    slab.initialize(using: &rng)
    let ws = try UNetWorkspace(
        net, batch: m.batch, height: m.height, width: m.width, mixedPrecision: false, training: false)
    // As generation runs it: a forward-only context (Winograd F(4x4, 3x3)), unless told 2.
    let ctx = LayerContext(weights: slab.ema.pointer)
    ctx.winogradTile = try args.resolve(BenchOptions()).winogradTile
    let images = randomImages(m.batch * m.height * m.width * 3), variances = [Float](repeating: 0.5, count: m.batch)
    var memory = ws.memory
    memory.parameterBytes = 4 * net.parameterCount  // inference keeps the EMA weights only
    return benchSteps(
        "sampling step (forward, EMA weights, Winograd F(\(ctx.winogradTile)x\(ctx.winogradTile), 3x3))", model: m,
        parameters: net.parameterCount,
        gflopPerStep: net.forwardFlops(batch: m.batch, height: m.height, width: m.width) / 1e9, memory: memory,
        steps: steps
    ) {
        var none: [SeededGenerator] = []
        net.forward(ws, ctx, images: images, variances: variances, training: false, rngs: &none)
    }
}

/// The classifier's batch (32) and ten timed steps.
let classifierBenchDefaults: BenchOptions = {
    var o = BenchOptions(); o.batch = 32; o.steps = 10; return o
}()

/// `rivers-bench classifier-step`: one training step of evaluate's classifier at its default
/// size (64x192, batch 32), and the FMA peak measured in the same process.
func benchClassifierStep(_ args: ParsedArguments) throws -> [String: Any] {
    let options = try args.resolve(classifierBenchDefaults)
    let config = ClassifierConfig()
    let recipe = ClassifierRecipe(steps: options.steps + 1, batchSize: options.batch)
    let count = max(options.batch * 2, 64)
    var rng = SeededGenerator(seed: 7)
    let pixels = (0..<(count * config.height * config.width * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let images = TrainingImages(
        height: config.height, width: config.width, paths: (0..<count).map { "img\($0)" }, pixels: pixels)
    let data = LabelledImages(images: images, classes: (0..<count).map { $0 % config.classes })
    let trainer = try ClassifierTrainer(config: config, recipe: recipe, normalizer: images.normalizer(), seed: 1)
    let peak = Peak.measurePathGFLOPS(threads: Parallel.threadCount)
    var times: [Double] = []
    for i in 0...options.steps {
        let start = DispatchTime.now().uptimeNanoseconds
        trainer.step(data)
        if i > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
    }
    let start = DispatchTime.now().uptimeNanoseconds
    _ = trainer.predict(images)
    let predictSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(count)
    let seconds = median(times), gflop = trainer.flopsPerStep / 1e9
    let rss = ResourceUsage.peakResidentBytes()
    print(
        "classifier step: image \(config.height)x\(config.width), widths \(config.stemWidth) \(config.widths.map(String.init).joined(separator: " ")), batch \(options.batch), \(trainer.slab.count) parameters"
    )
    print(
        "\(Peak.pathWidth) FMA peak measured in this run: \(fmt(peak, 1)) GFLOP/s on \(counted(Parallel.threadCount, "thread")); \(KernelPath.summary())"
    )
    print(
        table([
            ["figure", "value"],
            ["seconds per step (median of \(options.steps))", fmt(seconds, 4)],
            ["GFLOP per step", fmt(gflop, 2)],
            ["GFLOP/s", fmt(gflop / seconds, 1)],
            ["% of peak", fmt(100 * gflop / seconds / peak, 1)],
            ["seconds per 1,500 steps", fmt(1500 * seconds, 1)],
            ["prediction, ms per image", fmt(1000 * predictSeconds, 2)],
            ["peak resident memory (MiB)", fmt(Double(rss) / 1048576, 1)],
        ]))
    return [
        "seconds_per_step": seconds, "gflop_per_step": gflop, "gflops": gflop / seconds, "peak_gflops": peak,
        "predict_seconds_per_image": predictSeconds, "peak_rss_bytes": rss, "batch_size": options.batch,
        "parameters": trainer.slab.count, "isa": KernelPath.current.rawValue,
    ]
}

/// `rivers-bench winograd-error --model_dir RUN`: how far generation with F(4x4, 3x3) lands from
/// F(2x2, 3x3) on a trained model's weights: the predicted noise of one forward pass at several
/// noise levels (relative RMS difference) and whole DDIM generations from the same seeds (pixels).
func benchWinogradError(_ args: ParsedArguments) throws -> [String: Any] {
    let options = try args.resolve(WinogradErrorOptions())
    let model = try TrainedModel(run: options.modelDir)
    let batch = 4
    let p4 = try model.predictor(batch: batch), p2 = try model.predictor(batch: batch)
    p2.winogradTile = 2
    let count = batch * model.height * model.width * 3
    var rng = SeededGenerator(seed: 7)
    let x = (0..<count).map { _ in rng.normal() }
    var rows = [["noise variance", "relative RMS difference of predicted noise (F4 vs F2)"]]
    var relative: [Double] = []
    for variance: Float in [0.05, 0.5, 0.95] {
        var a = [Float](repeating: 0, count: count), b = a
        p4.predictNoise(&a, x, variance: variance)
        p2.predictNoise(&b, x, variance: variance)
        let diff = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let norm = b.reduce(0.0) { $0 + Double($1 * $1) }
        relative.append((diff / max(norm, 1e-30)).squareRoot())
        rows.append([fmt(Double(variance), 2), String(format: "%.2e", relative.last!)])
    }
    let sampler = DDIMSampler(steps: options.steps)
    let indices = Array(0..<batch)
    let images4 = try Generation.images(
        indices: indices, predictor: p4, normalizer: model.normalizer, sampler: sampler, seed: 42)
    let images2 = try Generation.images(
        indices: indices, predictor: p2, normalizer: model.normalizer, sampler: sampler, seed: 42)
    var maxDiff = 0, sumDiff = 0, pixels = 0
    for (a, b) in zip(images4, images2) {
        for (u, v) in zip(a.pixels, b.pixels) {
            let d = abs(Int(u) - Int(v))
            maxDiff = max(maxDiff, d); sumDiff += d; pixels += 1
        }
    }
    print("model \(options.modelDir): \(model.height)x\(model.width), widths \(model.record.train.widths)")
    print(table(rows))
    print(
        "\(batch) images of \(options.steps) DDIM steps from the same seeds: pixel values (0-255) differ by \(fmt(Double(sumDiff) / Double(max(pixels, 1)), 3)) on average, \(maxDiff) at most"
    )
    return [
        "relative_rms": relative, "mean_pixel_difference": Double(sumDiff) / Double(max(pixels, 1)),
        "max_pixel_difference": maxDiff,
    ]
}

/// The options of `winograd-error`.
struct WinogradErrorOptions: SettingGroup {
    var modelDir = ""
    var steps = 20
    static let name = "rivers-bench"
    static let settings: [Setting<WinogradErrorOptions>] = [
        Setting("model_dir", "a run directory of rivers train", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting("steps", "DDIM steps of the generations", \.steps, range: .within(1...1000)),
    ]
}
