// The DDIM sampler: sigma's bound, the step against hand-computed values, the marginal
// variance of a step, reproducibility, and batches equal to one image at a time.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

/// A predictor that knows the clean images: eps = (x - s x0) / n exactly, at any time.
final class OraclePredictor: NoisePredictor {
    let x0: [Float]
    let batch: Int, height: Int, width: Int
    init(x0: [Float], batch: Int, height: Int, width: Int) {
        self.x0 = x0; self.batch = batch; self.height = height; self.width = width
    }
    func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
        let n = variance.squareRoot(), s = (1 - variance).squareRoot()
        for i in 0..<x0.count { out[i] = (x[i] - s * x0[i]) / n }
    }
}

/// A predictor that answers eps = k x: simple enough to follow by hand.
final class ScalingPredictor: NoisePredictor {
    let k: Float
    let batch = 1, height = 1, width = 1
    init(_ k: Float) { self.k = k }
    func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
        for i in 0..<3 { out[i] = k * x[i] }
    }
}

final class SamplerTests: XCTestCase {
    /// DDIM's sigma (Song et al. eq. 16) is 0 for eta 0 and never exceeds the next noise rate for
    /// eta <= 1, at every step of a 50-step schedule, from noise and from an image-to-image start.
    func testSigmaNeverExceedsTheNextNoiseRate() {
        let schedule = CosineSchedule()
        for start in [1.0, 0.6] {
            for eta in [0.0, 0.5, 1.0] {
                let sampler = DDIMSampler(schedule: schedule, steps: 50, eta: eta, start: start)
                for i in 0..<50 {
                    let (t, next) = sampler.times(i)
                    let s = schedule.rates(t).signal, (n2, s2) = schedule.rates(next)
                    let sigma = sampler.sigma(signal: s, nextSignal: s2)
                    if eta == 0 { XCTAssertEqual(sigma, 0) }
                    XCTAssertLessThanOrEqual(sigma, n2 * (1 + 1e-12), "eta \(eta) step \(i)")
                    XCTAssertGreaterThanOrEqual(sigma, 0)
                }
                XCTAssertEqual(sampler.times(0).t, start)
                XCTAssertEqual(sampler.times(49).next, 0)
            }
        }
    }

    /// Two steps of eta-0 DDIM with eps = 0.5 x, against MODEL.md's formulas evaluated here in
    /// Double. Float32 arithmetic on values of size ~1 to 100 (s = 0.01 at t = 1 divides by 0.01)
    /// keeps a relative error of a few 1e-7; 1e-5 relative leaves a margin of 10x and still
    /// catches any wrong term (each changes the result by more than 1%).
    func testTwoStepsAgainstHandComputedValues() {
        func rates(_ t: Double) -> (n: Double, s: Double) {
            let angle = acos(0.95) + t * (acos(0.01) - acos(0.95))
            return (sin(angle), cos(angle))
        }
        let start: [Double] = [1.0, -0.5, 0.25]
        var expected = start
        // step 0: t = 1 -> 0.5; step 1: t = 0.5 -> 0 (the last: the predicted image is the result)
        for (t, next, last) in [(1.0, 0.5, false), (0.5, 0.0, true)] {
            let (n, s) = rates(t), (n2, s2) = rates(next)
            expected = expected.map { x in
                let eps = 0.5 * x
                let x0 = (x - n * eps) / s
                return last ? x0 : s2 * x0 + n2 * eps
            }
        }
        let x = FloatBuffer(count: 3)
        for i in 0..<3 { x.pointer[i] = Float(start[i]) }
        let loop = DDIMSampler(steps: 2).run(ScalingPredictor(0.5), x: x.pointer, rngs: [SeededGenerator(seed: 1)])
        var seen: [SamplingStep] = []
        loop.finish { seen.append($0) }
        XCTAssertEqual(seen.map(\.index), [0, 1])
        XCTAssertEqual(seen.map(\.t), [1, 0.5])
        XCTAssertTrue(seen[1].isLast)
        let result = (0..<3).map { loop.predictedImages[$0] }
        assertClose(result, expected.map(Float.init), atol: 0, rtol: 1e-5)
    }

    /// With a predictor that knows x0, one step from t to t' gives x' = s' x0 + sqrt(n'^2 -
    /// sigma^2) eps + sigma z, so Var(x') = s'^2 Var(x0) + n'^2 for any eta. With x0 ~ N(0, 0.25)
    /// and 180,000 values, x' is Gaussian and its sample variance has a relative standard error of
    /// sqrt(2 / 180000) = 0.33%; 2% is six standard errors. The two etas must also differ: eta 1
    /// draws fresh noise.
    func testOneStepHasTheMarginalVarianceOfTheNextTime() {
        let (H, W) = (200, 300), count = H * W * 3
        var rng = SeededGenerator(seed: 5)
        let x0 = (0..<count).map { _ in 0.5 * rng.normal() }
        let eps = (0..<count).map { _ in rng.normal() }
        let schedule = CosineSchedule()
        var results: [[Float]] = []
        for eta in [0.0, 1.0] {
            let sampler = DDIMSampler(schedule: schedule, steps: 3, eta: eta, start: 0.6)
            let (t, next) = sampler.times(0)
            let (n, s) = schedule.rates(t), (n2, s2) = schedule.rates(next)
            let x = FloatBuffer(count: count)
            for i in 0..<count { x.pointer[i] = Float(s) * x0[i] + Float(n) * eps[i] }
            let loop = sampler.run(
                OraclePredictor(x0: x0, batch: 1, height: H, width: W), x: x.pointer, rngs: [SeededGenerator(seed: 9)])
            XCTAssertNotNil(loop.next())
            let values = (0..<count).map { Double(x.pointer[$0]) }
            let mean = values.reduce(0, +) / Double(count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count - 1)
            let expected = s2 * s2 * 0.25 + n2 * n2
            XCTAssertEqual(variance / expected, 1, accuracy: 0.02, "eta \(eta): \(variance) vs \(expected)")
            results.append((0..<count).map { x.pointer[$0] })
            if eta == 0 {
                // Deterministic DDIM moves x0 and eps to the next time exactly.
                for i in stride(from: 0, to: count, by: 997) {
                    XCTAssertEqual(Double(x.pointer[i]), s2 * Double(x0[i]) + n2 * Double(eps[i]), accuracy: 1e-4)
                }
            }
        }
        XCTAssertNotEqual(results[0], results[1])
    }

    /// A small random network (every weight drawn, the zero-initialized head too, so the
    /// predicted noise is not trivially 0).
    func randomNetwork() throws -> (UNet, FloatBuffer) {
        let net = try UNet(UNetConfig(widths: [8, 16], blockDepth: 1, embeddingDims: 8))
        let weights = FloatBuffer(count: net.parameterCount)
        var rng = SeededGenerator(seed: 3)
        for i in 0..<net.parameterCount { weights.pointer[i] = 0.2 * rng.normal() }
        return (net, weights)
    }

    /// Eta 0 is bit-reproducible for a seed; a batch of 3 equals the three images generated one by
    /// one from the same noise (images do not interact in an inference forward pass).
    func testReproducibleAndBatchEqualsOneByOne() throws {
        let (net, weights) = try randomNetwork()
        let normalizer = Normalizer(mean: [0.4, 0.5, 0.6], variance: [0.04, 0.05, 0.06])
        for eta in [0.0, 1.0] {
            let sampler = DDIMSampler(steps: 4, eta: eta)
            let batched = try Generation.images(
                indices: [0, 1, 2],
                predictor: try NetworkPredictor(net: net, weights: weights.pointer, batch: 3, height: 8, width: 16),
                normalizer: normalizer, sampler: sampler, seed: 11)
            let single = try NetworkPredictor(net: net, weights: weights.pointer, batch: 1, height: 8, width: 16)
            let oneByOne = try (0..<3).flatMap {
                try Generation.images(
                    indices: [$0], predictor: single, normalizer: normalizer, sampler: sampler, seed: 11)
            }
            XCTAssertEqual(batched, oneByOne, "eta \(eta)")
            let again = try Generation.images(
                indices: [0, 1, 2],
                predictor: try NetworkPredictor(net: net, weights: weights.pointer, batch: 3, height: 8, width: 16),
                normalizer: normalizer, sampler: sampler, seed: 11)
            XCTAssertEqual(batched, again, "eta \(eta): same seed, same images")
            XCTAssertNotEqual(batched[0], batched[1], "independent noise per image")
            let other = try Generation.images(
                indices: [0], predictor: single, normalizer: normalizer, sampler: sampler, seed: 12)
            XCTAssertNotEqual(other[0], batched[0], "another seed, another image")
        }
    }

    /// The inference workspace writes every block's convolution outputs into two shared regions;
    /// its forward pass must equal the training workspace's (which keeps them all), to the bit,
    /// with attention on both paths and a batch of 2.
    func testInferenceWorkspaceEqualsTheTrainingOne() throws {
        let net = try UNet(
            UNetConfig(
                widths: [8, 16, 24], blockDepth: 2, embeddingDims: 8, attentionInBottleneck: true,
                attentionInUpDownSample: true))
        let weights = FloatBuffer(count: net.parameterCount)
        var rng = SeededGenerator(seed: 4)
        for i in 0..<net.parameterCount { weights.pointer[i] = 0.2 * rng.normal() }
        let images = randomArray(2 * 8 * 12 * 3, seed: 8), variances: [Float] = [0.3, 0.9]
        var outputs: [[Float]] = []
        for training in [true, false] {
            let ws = try UNetWorkspace(net, batch: 2, height: 8, width: 12, mixedPrecision: false, training: training)
            outputs.append(
                net.predictNoise(ws, LayerContext(weights: weights.pointer), images: images, variances: variances))
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertTrue(outputs[0].contains { $0 != 0 })
        // Without attention a block keeps c1, c2 and its output for training, its output alone
        // for inference (plus two shared regions): well under half.
        let plain = try UNet(UNetConfig())
        let trainingPlan = try UNetWorkspace.plannedMemory(
            plain, batch: 2, height: 200, width: 600, mixedPrecision: false, training: true)
        let inferencePlan = try UNetWorkspace.plannedMemory(
            plain, batch: 2, height: 200, width: 600, mixedPrecision: false, training: false)
        XCTAssertLessThan(inferencePlan.savedBytes, trainingPlan.savedBytes / 2, "c1 and c2 are not kept for inference")
    }

    func testMemorizationCheckFindsCopies() {
        let a = patternImage(width: 60, height: 20, seed: 1), b = noiseImage(width: 60, height: 20, seed: 2)
        let training = [b, a].map { Memorization.thumbnail($0, height: 20, width: 60) }
        let copy = Memorization.thumbnail(a, height: 20, width: 60)
        let other = Memorization.thumbnail(patternImage(width: 60, height: 20, seed: 40), height: 20, width: 60)
        let matches = Memorization.nearest([copy, other], among: training)
        XCTAssertEqual(matches[0].training, 1)
        XCTAssertEqual(matches[0].distance, 0)
        XCTAssertTrue(matches[0].nearCopy)
        XCTAssertFalse(matches[1].nearCopy, "distance \(matches[1].distance)")
    }
}
