// Inpainting with RePaint (Lugmayr et al. 2022): DDIM steps whose known region is the real
// image noised to the current time, with jumps back in time that let the filled region agree
// with its surroundings.
import Foundation

public struct RePaint: Sendable {
    public var sampler: DDIMSampler
    public var jumpLength: Int
    public var jumpSamples: Int

    public init(sampler: DDIMSampler, jumpLength: Int = 10, jumpSamples: Int = 10) {
        precondition(jumpLength >= 1 && jumpSamples >= 1, "RePaint needs jump_length and jump_n_sample of at least 1")
        self.sampler = sampler; self.jumpLength = jumpLength; self.jumpSamples = jumpSamples
    }

    /// The time indices visited, as the paper's `get_schedule_jump`: from T - 1 down to -1 (the
    /// end), going back up `jumpLength` indices `jumpSamples - 1` times at every multiple of
    /// `jumpLength` below T - jumpLength. Index k is diffusion time (k + 1) / T.
    public static func schedule(steps T: Int, jumpLength: Int, jumpSamples: Int) -> [Int] {
        var jumps: [Int: Int] = [:]
        for j in stride(from: 0, to: T - jumpLength, by: jumpLength) { jumps[j] = jumpSamples - 1 }
        var t = T, visited: [Int] = []
        while t >= 1 {
            t -= 1
            visited.append(t)
            if let left = jumps[t], left > 0 {
                jumps[t] = left - 1
                for _ in 0..<jumpLength { t += 1; visited.append(t) }
            }
        }
        visited.append(-1)
        return visited
    }

    /// Fills the unknown region of `x0` ([N, H, W, 3] normalized real images; `mask` [N, H, W],
    /// 1 = keep) with the predictor's images; image b draws its noise from `rngs[b]`. Returns the
    /// normalized result: the real image where the mask keeps it, the model's elsewhere.
    /// `onStep` follows every step (down or back up).
    public func inpaint(
        _ predictor: NoisePredictor, x0: UnsafePointer<Float>, mask: UnsafePointer<Float>,
        rngs: inout [SeededGenerator], onStep: () -> Void = {}, shouldStop: () -> Bool = { false }
    ) -> [Float]? {
        let N = predictor.batch, pixels = predictor.height * predictor.width, count = N * pixels * 3
        let T = sampler.steps, schedule = sampler.schedule
        func time(_ k: Int) -> Double { Double(k + 1) / Double(T) }
        let x = FloatBuffer(count: count), eps = FloatBuffer(count: count)
        for b in 0..<N { for j in (b * pixels * 3)..<((b + 1) * pixels * 3) { x.pointer[j] = rngs[b].normal() } }
        var result = [Float](repeating: 0, count: count)
        let visited = RePaint.schedule(steps: T, jumpLength: jumpLength, jumpSamples: jumpSamples)
        for (a, b) in zip(visited, visited.dropFirst()) {
            // A stop between network evaluations: no image.
            if shouldStop() { return nil }
            let (na, sa) = schedule.rates(time(a)), (nb, sb) = schedule.rates(time(b))
            if b < a {
                // Down one step: a DDIM step of the whole image (eq. 12) ...
                predictor.predictNoise(eps.pointer, x.pointer, variance: Float(na * na))
                sampler.update(
                    x.pointer, predicted: eps.pointer, eps: eps.pointer, images: N, count: pixels * 3,
                    rates: (na, sa), next: (nb, sb), last: b < 0, rngs: &rngs)
                if b < 0 {
                    for i in 0..<count { result[i] = eps.pointer[i] }  // the predicted images
                    onStep()
                    break
                }
                // ... then the known region replaced by the real image noised to the new time,
                // with fresh noise (RePaint eq. 8).
                for n in 0..<N {
                    for p in (n * pixels)..<((n + 1) * pixels) where mask[p] > 0.5 {
                        for c in 0..<3 {
                            x.pointer[p * 3 + c] = Float(sb) * x0[p * 3 + c] + Float(nb) * rngs[n].normal()
                        }
                    }
                }
            } else {
                // Back up (a jump): forward diffusion from time a to b, q(x_b | x_a) =
                // N((s_b / s_a) x_a, 1 - (s_b / s_a)^2) on the variance-preserving schedule.
                let r = sb / sa, sigma = Float(max(1 - r * r, 0).squareRoot())
                for n in 0..<N {
                    for i in (n * pixels * 3)..<((n + 1) * pixels * 3) {
                        x.pointer[i] = Float(r) * x.pointer[i] + sigma * rngs[n].normal()
                    }
                }
            }
            onStep()
        }
        for p in 0..<(N * pixels) where mask[p] > 0.5 {
            for c in 0..<3 { result[p * 3 + c] = x0[p * 3 + c] }
        }
        return result
    }
}
