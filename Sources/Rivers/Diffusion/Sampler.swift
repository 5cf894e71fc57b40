// DDIM sampling with eta (docs/model.md; Song et al. 2020, "Denoising Diffusion Implicit Models"):
// the step as the paper writes it, a noise predictor to plug in, and the loop as a Sequence.
import Foundation

/// Predicts the noise of `x` ([N, H, W, 3], normalized noisy images at one diffusion time whose
/// noise variance is `variance`) into `out`. The U-Net with the EMA weights in generation; any
/// function in tests.
public protocol NoisePredictor: AnyObject {
    var batch: Int { get }
    var height: Int { get }
    var width: Int { get }
    func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float)
}

/// The network as a noise predictor: inference forward passes (no activations kept for a
/// backward pass, dropout off) over one workspace planned once for the batch.
public final class NetworkPredictor: NoisePredictor {
    public let net: UNet
    public let workspace: UNetWorkspace
    let ctx: LayerContext
    public var batch: Int { workspace.batch }
    public var height: Int { workspace.height }
    public var width: Int { workspace.width }

    /// `weights` points at the parameters (the EMA copy) in `net.layout`'s order and must stay alive.
    public init(net: UNet, weights: UnsafeMutablePointer<Float>, batch: Int, height: Int, width: Int) throws {
        self.net = net
        workspace = try UNetWorkspace(
            net, batch: batch, height: height, width: width, mixedPrecision: false, training: false)
        ctx = LayerContext(weights: weights)
    }

    /// The Winograd tile of its 3x3 convolutions: 4 (F(4x4, 3x3)) unless set to 2.
    public var winogradTile: Int {
        get { ctx.winogradTile }
        set { ctx.winogradTile = newValue }
    }

    public func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
        var unused: [SeededGenerator] = []  // dropout draws only in training
        let variances = [Float](repeating: variance, count: batch)
        net.forward(workspace, ctx, images: x, variances: variances, training: false, rngs: &unused)
        out.update(from: workspace.output.pointer, count: workspace.output.count)
    }
}

/// A sampling loop in progress: a sequence of finished steps over a state it updates in place.
public protocol SamplingLoop: AnyObject {
    /// Runs one step; nil when every step is done.
    func next() -> SamplingStep?
    /// The predicted images of the last finished step (normalized); after the last, the result.
    var predictedImages: UnsafePointer<Float> { get }
}

/// What generation runs: DDIM or DPM-Solver++(2M) (docs/model.md), batched, each image
/// drawing any noise from its own generator.
public protocol GenerationSampler: Sendable {
    var schedule: CosineSchedule { get }
    /// Network evaluations from `start`.
    var steps: Int { get }
    /// The diffusion time of the first evaluation.
    var start: Double { get }
    /// The same sampler for an image-to-image variation (SDEdit) from diffusion time `strength`:
    /// ceil(strength x steps) evaluations from `strength` down to 0.
    func variation(from strength: Double) -> Self
    /// For plans and logs: "30 DDIM steps, eta 0", "15 DPM-Solver++(2M) steps (time spacing)".
    var summary: String { get }
    /// The loop over `x` (the state at `start`); image b draws noise from `rngs[b]`.
    func loop(_ predictor: NoisePredictor, x: UnsafeMutablePointer<Float>, rngs: [SeededGenerator]) -> SamplingLoop
}

extension GenerationSampler {
    /// Evaluations of a variation from `strength`.
    static func variationSteps(_ steps: Int, _ strength: Double) -> Int {
        max(1, Int((strength * Double(steps)).rounded(.up)))
    }
}

/// The DDIM sampler of docs/model.md: `steps` steps from diffusion time `start` (1: pure noise) to 0.
public struct DDIMSampler: GenerationSampler, Equatable {
    public var schedule: CosineSchedule
    public var steps: Int
    /// 0: deterministic DDIM; 1: DDPM-like noise at every step.
    public var eta: Double
    /// The diffusion time of the first step: 1 for generation from noise, the strength for an
    /// image-to-image variation (SDEdit, Meng et al. 2021).
    public var start: Double

    public init(schedule: CosineSchedule = CosineSchedule(), steps: Int, eta: Double = 0, start: Double = 1) {
        precondition(steps > 0 && eta.isFinite && (0...1).contains(eta), "DDIM needs steps > 0 and eta in [0, 1]")
        precondition(start.isFinite && start > 0 && start <= 1, "DDIM starts at a diffusion time in (0, 1]")
        self.schedule = schedule; self.steps = steps; self.eta = eta; self.start = start
    }

    /// Step i goes from t = start - i step to t' = max(t - step, 0), step = start / steps
    /// (docs/model.md: t = 1 - i/S for generation); the last step ends at 0 exactly.
    public func times(_ i: Int) -> (t: Double, next: Double) {
        let step = start / Double(steps)
        let t = start - Double(i) * step
        return (t, i >= steps - 1 ? 0 : max(t - step, 0))
    }

    /// Song et al. 2020, eq. 16 (the sigma of eq. 12) in signal rates:
    /// sigma = eta sqrt((1 - s'^2) / (1 - s^2)) sqrt(1 - s^2 / s'^2). With eta <= 1 it never
    /// exceeds the next noise rate n' = sqrt(1 - s'^2), since 1 - s^2/s'^2 <= 1 - s^2.
    public func sigma(signal s: Double, nextSignal s2: Double) -> Double {
        eta * ((1 - s2 * s2) / (1 - s * s)).squareRoot() * max(1 - (s * s) / (s2 * s2), 0).squareRoot()
    }

    /// One step of eq. 12 on `count` values per image of `images` images, given the predicted
    /// noise `eps` of `x` at (n, s): writes the predicted images into `predicted` and, unless
    /// `last`, the next state into `x`. Image b draws its noise z from `rngs[b]` (only when
    /// sigma > 0). `predicted` may be `eps` (it is read before it is written, value by value).
    public func update(
        _ x: UnsafeMutablePointer<Float>, predicted: UnsafeMutablePointer<Float>, eps: UnsafePointer<Float>,
        images: Int, count: Int, rates: (n: Double, s: Double), next: (n: Double, s: Double),
        last: Bool, rngs: inout [SeededGenerator]
    ) {
        let sigma = sigma(signal: rates.s, nextSignal: next.s)
        let (fn, fs, fs2) = (Float(rates.n), Float(rates.s), Float(next.s))
        let direction = Float(max(next.n * next.n - sigma * sigma, 0).squareRoot()), fsigma = Float(sigma)
        for b in 0..<images {
            for j in (b * count)..<((b + 1) * count) {
                let e = eps[j]
                // (1) the "predicted x0" of eq. 12: (x_t - n eps) / s
                let image = (x[j] - fn * e) / fs
                predicted[j] = image
                if last { continue }
                // (2) x_t' = s' x0 + sqrt(n'^2 - sigma^2) eps + sigma z  (the direction pointing
                // to x_t, then random noise; eq. 12 with alpha = s^2)
                let z: Float = sigma > 0 ? rngs[b].normal() : 0
                x[j] = fs2 * image + direction * e + fsigma * z
            }
        }
    }

    /// The sampling loop over `x` (the state at `start`, [N, H, W, 3] normalized) as a sequence:
    /// each element is one finished step, after which `x` holds the next state and
    /// `predictedImages` the step's predicted images. A caller may change `x` between steps
    /// (inpainting). Image n draws its noise from `rngs[n]`.
    public func run(_ predictor: NoisePredictor, x: UnsafeMutablePointer<Float>, rngs: [SeededGenerator]) -> DDIMRun {
        DDIMRun(sampler: self, predictor: predictor, x: x, rngs: rngs)
    }

    public var summary: String { "\(counted(steps, "DDIM step")), eta \(formatNumber(eta))" }

    public func variation(from strength: Double) -> DDIMSampler {
        DDIMSampler(schedule: schedule, steps: Self.variationSteps(steps, strength), eta: eta, start: strength)
    }

    public func loop(_ predictor: NoisePredictor, x: UnsafeMutablePointer<Float>, rngs: [SeededGenerator])
        -> SamplingLoop
    { run(predictor, x: x, rngs: rngs) }
}

/// One finished step of a sampling loop.
public struct SamplingStep: Sendable {
    /// 0-based step and the step count.
    public let index: Int, count: Int
    /// The step went from diffusion time `t` to `next`.
    public let t: Double, next: Double
    public var isLast: Bool { index == count - 1 }
}

/// A DDIM loop in progress (see `DDIMSampler.run`).
public final class DDIMRun: Sequence, IteratorProtocol, SamplingLoop {
    public let sampler: DDIMSampler
    let predictor: NoisePredictor
    public let x: UnsafeMutablePointer<Float>
    var rngs: [SeededGenerator]
    private let predicted: FloatBuffer
    private var index = 0

    init(sampler: DDIMSampler, predictor: NoisePredictor, x: UnsafeMutablePointer<Float>, rngs: [SeededGenerator]) {
        precondition(rngs.count == predictor.batch, "one generator per image")
        self.sampler = sampler; self.predictor = predictor; self.x = x; self.rngs = rngs
        predicted = FloatBuffer(count: predictor.batch * predictor.height * predictor.width * 3)
    }

    /// The predicted images of the last finished step (normalized); after the last step, the result.
    public var predictedImages: UnsafePointer<Float> { UnsafePointer(predicted.pointer) }

    public func next() -> SamplingStep? {
        guard index < sampler.steps else { return nil }
        let (t, next) = sampler.times(index)
        let rates = sampler.schedule.rates(t), nextRates = sampler.schedule.rates(next)
        predictor.predictNoise(predicted.pointer, x, variance: Float(rates.noise * rates.noise))
        let last = index == sampler.steps - 1
        sampler.update(
            x, predicted: predicted.pointer, eps: predicted.pointer, images: predictor.batch,
            count: predictor.height * predictor.width * 3, rates: (rates.noise, rates.signal),
            next: (nextRates.noise, nextRates.signal), last: last, rngs: &rngs)
        defer { index += 1 }
        return SamplingStep(index: index, count: sampler.steps, t: t, next: next)
    }

    /// Runs every remaining step.
    public func finish(onStep: (SamplingStep) -> Void = { _ in }) {
        while let step = next() { onStep(step) }
    }
}

/// Generating finished images with a trained network.
public enum Generation {
    /// The images `indices` of a stream, from pure noise, in batches of the predictor's batch.
    /// Image k draws all its noise from its own generator (seed, stream, "image", k), so an image
    /// does not depend on the batch it was generated in.
    public static func images(
        indices: [Int], predictor: NoisePredictor, normalizer: Normalizer,
        sampler: some GenerationSampler, seed: UInt64, stream: String = "generation",
        onStep: (SamplingStep) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) throws -> [Image] {
        try sample(
            indices: indices, predictor: predictor, normalizer: normalizer, sampler: sampler, seed: seed,
            stream: stream, onStep: onStep, shouldStop: shouldStop
        ) { _, x, count, rng in
            for j in 0..<count { x[j] = rng.normal() }
        }
    }

    /// Image-to-image variations (docs/model.md; SDEdit, Meng et al. 2021): each source image (at the
    /// predictor's size) is normalized, noised to diffusion time `strength` with noise from its
    /// own generator (seed, stream, "image", index), and sampled down to 0 with
    /// ceil(strength x steps) steps of `sampler` (whose `start` is replaced by `strength`).
    /// `shouldStop` is asked between steps, as for `images`.
    public static func variations(
        of sources: [Image], indices: [Int], strength: Double, predictor: NoisePredictor,
        normalizer: Normalizer, sampler: some GenerationSampler, seed: UInt64, stream: String,
        onStep: (SamplingStep) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) throws -> [Image] {
        precondition(sources.count == indices.count, "one index per source image")
        let variation = sampler.variation(from: strength)
        let (n0, s0) = sampler.schedule.rates(strength)
        return try sample(
            indices: indices, predictor: predictor, normalizer: normalizer, sampler: variation, seed: seed,
            stream: stream, onStep: onStep, shouldStop: shouldStop
        ) { k, x, count, rng in
            let source = sources[k]
            precondition(
                source.width == predictor.width && source.height == predictor.height,
                "variation sources are at the model's size")
            for j in 0..<count { x[j] = Float(source.pixels[j]) * (1 / 255) }
            normalizer.normalize(x, pixels: count / 3)
            // x_t0 = s x0 + n z
            for j in 0..<count { x[j] = Float(s0) * x[j] + Float(n0) * rng.normal() }
        }
    }

    /// Runs `sampler` over batches of the images `indices`; `prepare(k, x, count, rng)` writes the
    /// starting state of the k-th image (`count` values) with its generator; the results are
    /// denormalized into images. `shouldStop` is asked between steps: when it says stop, the
    /// batch in progress is abandoned and the images of the finished batches are returned (fewer
    /// than `indices`). A network whose output is not finite is an error (`.diverged`): NaN or
    /// infinity has no pixel value.
    static func sample(
        indices: [Int], predictor: NoisePredictor, normalizer: Normalizer, sampler: some GenerationSampler,
        seed: UInt64, stream: String,
        onStep: (SamplingStep) -> Void,
        shouldStop: () -> Bool = { false },
        prepare: (Int, UnsafeMutablePointer<Float>, Int, inout SeededGenerator) -> Void
    ) throws -> [Image] {
        let N = predictor.batch, H = predictor.height, W = predictor.width, perImage = H * W * 3
        let x = FloatBuffer(count: N * perImage), out = FloatBuffer(count: N * perImage)
        var result: [Image] = []
        for batchStart in stride(from: 0, to: indices.count, by: N) {
            let real = min(N, indices.count - batchStart)
            // Padding slots of a short batch get their own (unused) streams and zeros.
            var rngs = (0..<N).map { b in
                SeededGenerator(
                    seed: seed,
                    stream: b < real ? [stream, "image", String(indices[batchStart + b])] : [stream, "padding"])
            }
            x.pointer.update(repeating: 0, count: N * perImage)
            for b in 0..<real { prepare(batchStart + b, x.pointer + b * perImage, perImage, &rngs[b]) }
            if shouldStop() { break }
            let loop = sampler.loop(predictor, x: x.pointer, rngs: rngs)
            while let step = loop.next() {
                onStep(step)
                if step.index + 1 < sampler.steps && shouldStop() { return result }
            }
            for j in 0..<(real * perImage) where !loop.predictedImages[j].isFinite {
                throw RiversError.diverged(
                    "the network's output is not finite (NaN or infinity) at step \(sampler.steps)")
            }
            out.pointer.update(from: loop.predictedImages, count: N * perImage)
            normalizer.denormalize(out.pointer, pixels: N * H * W)
            for b in 0..<real { result.append(image(out.pointer + b * perImage, width: W, height: H)) }
        }
        return result
    }

    /// An image from HWC floats in [0, 1].
    public static func image(_ values: UnsafePointer<Float>, width: Int, height: Int) -> Image {
        Image(
            width: width, height: height,
            pixels: (0..<(width * height * 3)).map { k in
                // NaN has no pixel value: black, so that a conversion never traps.
                let v = values[k]
                return v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded())
            })
    }
}
