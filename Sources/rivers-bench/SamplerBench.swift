// `rivers-bench sampler-error --model_dir RUN`: how close each sampler gets, in K network passes,
// to the image the probability-flow ODE gives (docs/sampling.md), on a trained run's EMA weights.
import Foundation
import Rivers
import RiversCLI

/// Fixed weights, fixed starting noises (seed 42), the model's size; errors are RMS over every
/// normalized value of every image (before denormalizing clips), and the same in 8-bit grey levels
/// (times each channel's standard deviation and 255). The reference is DPM-Solver++(2M) with
/// `--reference_steps` logSNR steps; its own error is estimated from the run with half as many
/// (second order: the half run is about 4x as far off, so the reference is about a third of their
/// difference away from the ODE's image).
func benchSamplerError(_ args: ParsedArguments) throws -> [String: Any] {
    let options = try args.resolve(SamplerErrorOptions())
    let model = try TrainedModel(run: options.modelDir)
    let images = options.images, schedule = model.record.train.schedule
    let predictor = try model.predictor(batch: images)
    let count = images * model.height * model.width * 3
    var rng = SeededGenerator(seed: 42, stream: ["sampler-error"])
    let start = (0..<count).map { _ in rng.normal() }
    let std = model.normalizer.variance.map { Double($0).squareRoot() }
    var passes = 0
    func run(_ sampler: some GenerationSampler) -> [Float] {
        var x = start
        passes += sampler.steps
        return x.withUnsafeMutableBufferPointer { p in
            let rngs = (0..<images).map { SeededGenerator(seed: 42, stream: ["sampler-error", "image", String($0)]) }
            let loop = sampler.loop(predictor, x: p.baseAddress!, rngs: rngs)
            while loop.next() != nil {}
            return Array(UnsafeBufferPointer(start: loop.predictedImages, count: count))
        }
    }
    /// RMS difference, normalized and in grey levels.
    func error(_ a: [Float], _ b: [Float]) -> (rms: Double, grey: Double) {
        var sum = 0.0, grey = 0.0
        for j in 0..<count {
            let d = Double(a[j]) - Double(b[j])
            sum += d * d
            grey += pow(d * std[j % 3] * 255, 2)
        }
        return ((sum / Double(count)).squareRoot(), (grey / Double(count)).squareRoot())
    }
    let started = DispatchTime.now().uptimeNanoseconds
    let reference = run(DPMSolverSampler(schedule: schedule, steps: options.referenceSteps, spacing: .logSNR))
    let half = run(DPMSolverSampler(schedule: schedule, steps: options.referenceSteps / 2, spacing: .logSNR))
    let referenceError = error(reference, half).rms / 3
    let samplers: [(String, (Int) -> any GenerationSampler)] = [
        ("DDIM (today's grid)", { DDIMSampler(schedule: schedule, steps: $0) }),
        ("dpmpp2m time", { DPMSolverSampler(schedule: schedule, steps: $0, spacing: .time) }),
        ("dpmpp2m logSNR", { DPMSolverSampler(schedule: schedule, steps: $0, spacing: .logSNR) }),
    ]
    var rows = [["steps"] + samplers.map { "\($0.0): RMS (grey levels)" }]
    var results: [[String: Any]] = []
    for k in options.stepCounts {
        var row = [String(k)]
        for (name, make) in samplers {
            let e = error(run(make(k)), reference)
            row.append("\(String(format: "%.4f", e.rms)) (\(fmt(e.grey, 2)))")
            results.append(["sampler": name, "steps": k, "rms": e.rms, "grey_levels": e.grey])
        }
        rows.append(row)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    print(
        "model \(options.modelDir): \(model.height)x\(model.width), widths \(model.record.train.widths); \(images) images from fixed noise"
    )
    print(
        "reference: dpmpp2m logSNR \(options.referenceSteps) steps, its own error about \(String(format: "%.1e", referenceError)) (a third of its distance to \(options.referenceSteps / 2) steps)"
    )
    print(table(rows))
    print("\(passes) network passes of \(images) images in \(fmt(seconds, 1)) s")
    return [
        "reference_steps": options.referenceSteps, "reference_error": referenceError, "errors": results,
        "images": images, "seconds": seconds,
    ]
}

/// The options of `sampler-error`.
struct SamplerErrorOptions: SettingGroup {
    var modelDir = ""
    var images = 8
    var referenceSteps = 500
    var stepCounts = [5, 10, 15, 20, 30, 50]
    static let name = "rivers-bench"
    static let settings: [Setting<SamplerErrorOptions>] = [
        Setting("model_dir", "a run directory of rivers train", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting("images", "images generated from fixed noise", \.images, range: .within(1...64)),
        Setting(
            "reference_steps", "logSNR steps of the dpmpp2m reference", \.referenceSteps, range: .within(20...10_000)),
        Setting(
            "step_counts", "the step counts compared", \.stepCounts, placeholder: "K",
            range: .list(count: 1...16, each: 1...10_000)),
    ]
}
