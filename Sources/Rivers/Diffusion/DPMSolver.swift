// DPM-Solver++(2M) (docs/model.md; Lu et al. 2022, "DPM-Solver++", Algorithm 2): a second-order
// multistep solver of the probability-flow ODE in the data prediction x0 = (x - n eps) / s,
// stepping in the half log-SNR lambda = log(s / n). Its first step is DDIM's at eta 0; each later
// step extrapolates x0 linearly in lambda from the last two predictions, so K network passes get
// as close to the ODE's image as DDIM gets with several times more.
import Foundation

/// Where a sampler's evaluations fall between its start and diffusion time 0 (docs/model.md).
public enum TimeSpacing: String, Codable, Sendable, CaseIterable {
    /// t uniform: t_i = start (1 - i / (K - 1)).
    case time
    /// Half log-SNR uniform: lambda_i evenly spaced from lambda(start) to lambda(0).
    case logSNR
}

extension CosineSchedule {
    /// The half log-SNR lambda = log(s / n) at diffusion time t (= -log tan of the angle).
    public func lambda(_ t: Double) -> Double {
        let (n, s) = rates(t)
        return log(s / n)
    }

    /// The diffusion time whose half log-SNR is `lambda`: t = (atan(e^-lambda) - a0) / (a1 - a0).
    public func time(lambda: Double) -> Double {
        let start = acos(maxSignalRate), end = acos(minSignalRate)
        return (atan(exp(-lambda)) - start) / (end - start)
    }
}

/// DPM-Solver++(2M) from diffusion time `start` to 0 in `steps` network evaluations: the image is
/// the data prediction of the last one, at t = 0 (the first-order step to n = 0).
public struct DPMSolverSampler: GenerationSampler, Equatable {
    public var schedule: CosineSchedule
    /// Network evaluations (NFE).
    public var steps: Int
    /// The diffusion time of the first evaluation: 1 from noise, the strength for a variation.
    public var start: Double
    public var spacing: TimeSpacing

    public init(
        schedule: CosineSchedule = CosineSchedule(), steps: Int, start: Double = 1, spacing: TimeSpacing = .time
    ) {
        precondition(steps > 0, "DPM-Solver++ needs at least one step")
        precondition(start.isFinite && start > 0 && start <= 1, "DPM-Solver++ starts at a diffusion time in (0, 1]")
        self.schedule = schedule; self.steps = steps; self.start = start; self.spacing = spacing
    }

    /// The evaluation times t_0 = start > t_1 > ... > t_{K-1} = 0 (one step: just `start`).
    public func grid() -> [Double] {
        if steps == 1 { return [start] }
        let last = Double(steps - 1)
        switch spacing {
        case .time:
            return (0..<steps).map { i in i == steps - 1 ? 0 : start * (1 - Double(i) / last) }
        case .logSNR:
            let l0 = schedule.lambda(start), l1 = schedule.lambda(0)
            return (0..<steps).map { i in
                i == 0 ? start : i == steps - 1 ? 0 : schedule.time(lambda: l0 + (l1 - l0) * Double(i) / last)
            }
        }
    }

    /// The coefficients of the step from evaluation i (data prediction d_i) to i + 1:
    /// x' = a x + b d_i + c d_{i-1}. First order (c = 0) at i = 0; `hPrevious` is the last step's h.
    public func coefficients(from i: Int, grid: [Double], hPrevious: Double?) -> (
        a: Double, b: Double, c: Double, h: Double
    ) {
        let (n, _) = schedule.rates(grid[i]), (n2, s2) = schedule.rates(grid[i + 1])
        let h = schedule.lambda(grid[i + 1]) - schedule.lambda(grid[i])
        let a = n2 / n, w = -s2 * expm1(-h)
        guard let hPrevious else { return (a, w, 0, h) }
        let r = hPrevious / h
        return (a, w * (1 + 1 / (2 * r)), -w / (2 * r), h)
    }

    /// The loop over `x` (the state at `start`, normalized) as a sequence of finished steps; the
    /// image is `predictedImages` after the last.
    public func run(_ predictor: NoisePredictor, x: UnsafeMutablePointer<Float>) -> DPMSolverRun {
        DPMSolverRun(sampler: self, predictor: predictor, x: x)
    }

    public var summary: String { "\(counted(steps, "DPM-Solver++(2M) step")) (\(spacing.rawValue) spacing)" }

    /// From `strength`: the first step is first order, so nothing before it is needed (docs/model.md).
    public func variation(from strength: Double) -> DPMSolverSampler {
        DPMSolverSampler(
            schedule: schedule, steps: Self.variationSteps(steps, strength), start: strength, spacing: spacing)
    }

    /// The solver draws no noise: `rngs` is not used.
    public func loop(_ predictor: NoisePredictor, x: UnsafeMutablePointer<Float>, rngs: [SeededGenerator])
        -> SamplingLoop
    { run(predictor, x: x) }
}

/// A DPM-Solver++(2M) loop in progress (see `DPMSolverSampler.run`).
public final class DPMSolverRun: Sequence, IteratorProtocol, SamplingLoop {
    public let sampler: DPMSolverSampler
    let predictor: NoisePredictor
    public let x: UnsafeMutablePointer<Float>
    let grid: [Double]
    /// The data prediction of the last evaluation and of the one before it.
    private var current: FloatBuffer, previous: FloatBuffer
    private var index = 0
    private var hPrevious: Double?

    init(sampler: DPMSolverSampler, predictor: NoisePredictor, x: UnsafeMutablePointer<Float>) {
        self.sampler = sampler; self.predictor = predictor; self.x = x
        grid = sampler.grid()
        let count = predictor.batch * predictor.height * predictor.width * 3
        current = FloatBuffer(count: count)
        previous = FloatBuffer(count: count)
    }

    /// The data prediction of the last finished step (normalized); after the last, the image.
    public var predictedImages: UnsafePointer<Float> { UnsafePointer(current.pointer) }

    public func next() -> SamplingStep? {
        guard index < sampler.steps else { return nil }
        defer { index += 1 }
        swap(&current, &previous)
        let t = grid[index], (n, s) = sampler.schedule.rates(t)
        let count = current.count, d = current.pointer
        predictor.predictNoise(d, x, variance: Float(n * n))
        let (fn, fs) = (Float(n), Float(s))
        Parallel.forChunks(count, minimumChunk: 1 << 14) { r in
            for j in r { d[j] = (x[j] - fn * d[j]) / fs }
        }
        let last = index == sampler.steps - 1
        if !last {
            let k = sampler.coefficients(from: index, grid: grid, hPrevious: hPrevious)
            let (a, b, c) = (Float(k.a), Float(k.b), Float(k.c))
            let p = UnsafePointer(previous.pointer), x = self.x
            Parallel.forChunks(count, minimumChunk: 1 << 14) { r in
                if c == 0 {
                    for j in r { x[j] = a * x[j] + b * d[j] }
                } else {
                    for j in r { x[j] = a * x[j] + b * d[j] + c * p[j] }
                }
            }
            hPrevious = k.h
        }
        return SamplingStep(index: index, count: sampler.steps, t: t, next: last ? 0 : grid[index + 1])
    }

    /// Runs every remaining step.
    public func finish(onStep: (SamplingStep) -> Void = { _ in }) {
        while let step = next() { onStep(step) }
    }
}
