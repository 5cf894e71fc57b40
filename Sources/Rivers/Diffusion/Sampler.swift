// DDIM sampling with eta (MODEL.md; Song et al. 2020, "Denoising Diffusion Implicit Models").
import Foundation

/// The DDIM sampler of MODEL.md: S steps from diffusion time 1 down to 0 with the EMA network.
public struct DDIMSampler: Sendable {
    public var schedule: CosineSchedule
    public var steps: Int
    /// 0: deterministic DDIM; 1: DDPM-like noise at every step.
    public var eta: Double

    public init(schedule: CosineSchedule = CosineSchedule(), steps: Int, eta: Double = 0) {
        precondition(steps > 0 && eta.isFinite && (0...1).contains(eta), "DDIM needs steps > 0 and eta in [0, 1]")
        self.schedule = schedule; self.steps = steps; self.eta = eta
    }

    /// Step i goes from t = 1 - i/S to t' = max(t - 1/S, 0).
    public func times(_ i: Int) -> (t: Double, next: Double) {
        let step = 1 / Double(steps)
        let t = 1 - Double(i) * step
        return (t, max(t - step, 0))
    }

    /// Song et al. 2020, eq. 16 (the sigma of eq. 12) in signal rates:
    /// sigma = eta sqrt((1 - s'^2) / (1 - s^2)) sqrt(1 - s^2 / s'^2). With eta <= 1 it never
    /// exceeds the next noise rate n' = sqrt(1 - s'^2), since 1 - s^2/s'^2 <= 1 - s^2.
    public func sigma(signal s: Double, nextSignal s2: Double) -> Double {
        eta * ((1 - s2 * s2) / (1 - s * s)).squareRoot() * max(1 - (s * s) / (s2 * s2), 0).squareRoot()
    }

    /// Runs every step on `x` ([N, H, W, 3] normalised noisy images at t = 1, N = `ws.batch`), in
    /// place, with the weights `ctx` points at; image n draws its noise from `rngs[n]`. On return
    /// `x` holds the last step's predicted images (still normalised). `onStep(i)` follows step i.
    public func sample(_ net: UNet, _ ws: UNetWorkspace, _ ctx: LayerContext, x: UnsafeMutablePointer<Float>,
                       rngs: inout [SeededGenerator], onStep: (Int) -> Void = { _ in }) {
        let N = ws.batch, perImage = ws.height * ws.width * 3
        precondition(rngs.count == N, "one generator per image")
        var unused = SeededGenerator(seed: 0) // no dropout outside training
        for i in 0..<steps {
            let (t, next) = times(i)
            let (n, s) = schedule.rates(t), (n2, s2) = schedule.rates(next)
            let variances = [Float](repeating: Float(n * n), count: N)
            net.forward(ws, ctx, images: x, variances: variances, training: false, rng: &unused)
            let predictedNoise = ws.output.pointer
            let sigma = sigma(signal: s, nextSignal: s2)
            let last = i == steps - 1
            let (fn, fs, fs2) = (Float(n), Float(s), Float(s2))
            let direction = Float(max(n2 * n2 - sigma * sigma, 0).squareRoot()), fsigma = Float(sigma)
            for b in 0..<N {
                for j in (b * perImage)..<((b + 1) * perImage) {
                    // (1) the predicted x0 of eq. 12: (x_t - n eps) / s
                    let image = (x[j] - fn * predictedNoise[j]) / fs
                    if last { x[j] = image; continue }
                    // (2) x_{t'} = s' x0 + sqrt(n'^2 - sigma^2) eps + sigma z
                    let z: Float = sigma > 0 ? rngs[b].normal() : 0
                    x[j] = fs2 * image + direction * predictedNoise[j] + fsigma * z
                }
            }
            onStep(i)
        }
    }
}

/// Generating finished images with a trained network.
public enum Generation {
    /// `count` images from pure noise with the weights `weights` points at (the EMA copy), in
    /// batches of `ws.batch`: images `firstIndex` ..< `firstIndex + count` of the stream. Image k
    /// draws all its noise from its own generator (seed, stream, "image", k), so an image does
    /// not depend on the batch it was generated in.
    public static func images(count: Int, first firstIndex: Int = 0, net: UNet, weights: UnsafeMutablePointer<Float>, workspace ws: UNetWorkspace,
                              normalizer: Normalizer, sampler: DDIMSampler, seed: UInt64, stream: String = "generation",
                              onStep: () -> Void = {}) -> [Image] {
        let N = ws.batch, H = ws.height, W = ws.width, perImage = H * W * 3
        let ctx = LayerContext(weights: weights)
        let x = FloatBuffer(count: N * perImage)
        var result: [Image] = []
        var first = 0
        while first < count {
            let real = min(N, count - first)
            var rngs = (0..<N).map { SeededGenerator(seed: seed, stream: [stream, "image", String(firstIndex + first + $0)]) }
            for b in 0..<N {
                for j in 0..<perImage { x.pointer[b * perImage + j] = b < real ? rngs[b].normal() : 0 }
            }
            sampler.sample(net, ws, ctx, x: x.pointer, rngs: &rngs) { _ in onStep() }
            normalizer.denormalise(x.pointer, pixels: N * H * W)
            for b in 0..<real {
                let bytes = (0..<perImage).map { UInt8((x.pointer[b * perImage + $0] * 255).rounded()) }
                result.append(Image(width: W, height: H, pixels: bytes))
            }
            first += real
        }
        return result
    }

    /// The images side by side in rows of `columns`, with a 2-pixel white gap.
    public static func grid(_ images: [Image], columns: Int) -> Image? {
        guard let first = images.first else { return nil }
        let gap = 2, cols = max(1, min(columns, images.count)), rows = (images.count + cols - 1) / cols
        let W = cols * first.width + (cols - 1) * gap, H = rows * first.height + (rows - 1) * gap
        var sheet = Image(width: W, height: H, pixels: [UInt8](repeating: 255, count: W * H * 3))
        for (k, image) in images.enumerated() {
            let x0 = (k % cols) * (first.width + gap), y0 = (k / cols) * (first.height + gap)
            for y in 0..<min(image.height, first.height) {
                let src = y * image.width * 3, dst = ((y0 + y) * W + x0) * 3
                sheet.pixels.replaceSubrange(dst..<(dst + min(image.width, first.width) * 3),
                                             with: image.pixels[src..<(src + min(image.width, first.width) * 3)])
            }
        }
        return sheet
    }
}
