// The classifier's head kernels, global average pooling and softmax cross-entropy: fast kernels
// against their Double twins, backward passes against finite differences, accumulation,
// extreme logits and determinism.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ClassifierKernelTests: KernelPathTestCase {
    /// Runs `body` with `threads` threads, then restores the setting.
    func withThreads<T>(_ threads: Int, _ body: () -> T) -> T {
        let saved = Parallel.threadCount
        Parallel.threadCount = threads
        defer { Parallel.threadCount = saved }
        return body()
    }

    // MARK: Global average pooling

    /// (N, HW, C): C = 12, 3 and 9 take the scalar tail, N = 1 a single image, HW = 130 three
    /// float runs of 64 pixels, 2 x 48 x 128 the classifier's last map (4 x 12 x 128).
    static let poolingShapes = [(2, 6, 16), (1, 5, 12), (3, 7, 3), (1, 1, 8), (1, 130, 9), (2, 48, 128)]

    func testPoolingMatchesNaive() {
        onEveryPath {
            for (N, HW, C) in Self.poolingShapes {
                let label = "\(N)x\(HW)x\(C)"
                let x = randomArray(N * HW * C, seed: 1)
                var out = [Float](repeating: 0, count: N * C), ref = [Double](repeating: 0, count: N * C)
                Pooling.forward(&out, x, N: N, HW: HW, C: C)
                Pooling.forwardNaive(&ref, x.map(Double.init), N: N, HW: HW, C: C)
                // A mean: the tolerance of a float sum of HW values of magnitude <= 1, divided by HW.
                assertClose(out, ref.map(Float.init), atol: sumTolerance(terms: HW) / Float(HW), "forward " + label)

                // dx starts at random values: the backward pass adds into it (the twin adds too).
                let dout = randomArray(N * C, seed: 2), start = randomArray(N * HW * C, seed: 3)
                var dx = start, refDx = start.map(Double.init)
                Pooling.backward(&dx, dout, N: N, HW: HW, C: C)
                Pooling.backwardNaive(&refDx, dout.map(Double.init), N: N, HW: HW, C: C)
                // Three roundings (the share dout / HW, the add, the twin's result to Float) of
                // values below 2, each at most half an ulp there (2^-24 = 6e-8): 1.8e-7, and a margin.
                assertClose(dx, refDx.map(Float.init), atol: 2.4e-7, "backward " + label)
            }
        }
    }

    func testPoolingBackwardMatchesFiniteDifferences() {
        onEveryPath {
            // Small shapes only: central differences evaluate the twin twice per input value.
            for (N, HW, C) in Self.poolingShapes where N * HW * C <= 1200 {
                let x = randomArray(N * HW * C, seed: 4).map(Double.init), r = randomArray(N * C, seed: 5)
                // The loss sum r * out, whose gradient with respect to out is r.
                func loss(_ xs: [Double]) -> Double {
                    var out = [Double](repeating: 0, count: N * C)
                    Pooling.forwardNaive(&out, xs, N: N, HW: HW, C: C)
                    return dot(out, r.map(Double.init))
                }
                let reference = finiteDifferenceGradient(loss, at: x)
                var dx = [Float](repeating: 0.5, count: x.count)
                Pooling.backward(&dx, r, N: N, HW: HW, C: C)
                // The loss is linear, so the differences are exact but for 1e-11 of rounding; dx
                // (started at 0.5) carries the roundings of the naive comparison: 2.4e-7.
                assertClose(dx, reference.map { Float($0 + 0.5) }, atol: 2.4e-7, "\(N)x\(HW)x\(C)")
            }
        }
    }

    func testPoolingIsIdenticalAcrossRunsAndThreadCounts() {
        onEveryPath {
            let (N, HW, C) = (4, 150, 24)
            let x = randomArray(N * HW * C, seed: 6), dout = randomArray(N * C, seed: 7)
            func run() -> [Float] {
                var out = [Float](repeating: 0, count: N * C), dx = randomArray(N * HW * C, seed: 8)
                Pooling.forward(&out, x, N: N, HW: HW, C: C)
                Pooling.backward(&dx, dout, N: N, HW: HW, C: C)
                return out + dx
            }
            let first = withThreads(2, run)
            XCTAssertEqual(first, withThreads(2, run))
            XCTAssertEqual(first, withThreads(1, run))
        }
    }

    // MARK: Softmax cross-entropy

    /// (N, K): K = 5, 3, 11 and 1 take the scalar tail (11 after one SIMD8 block), N = 1 a
    /// single row, 32 x 10 a batch of the classifier.
    static let lossShapes = [(4, 5), (1, 3), (3, 16), (2, 11), (1, 1), (32, 10), (5, 24)]

    /// Seeded labels in 0..<K.
    func randomLabels(_ N: Int, _ K: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed)
        return (0..<N).map { _ in Int.random(in: 0..<K, using: &rng) }
    }

    /// The error of the fast probabilities and loss: the row sum s of K exponentials <= 1 is a
    /// float sum (`sumTolerance`; s >= 1, so that is also its relative error, carried into every
    /// p = e / s <= 1 and into log s), plus FastMath.exp's 4 ulp (4.8e-7, its own test's bound).
    /// The rest of the loss, max - logit, is exact in Double.
    func lossTolerance(_ K: Int) -> Float { sumTolerance(terms: K) + 4.8e-7 }

    /// Backward against the twin given the same probabilities: five roundings (scale / N, the
    /// product, p - 1 on the label, the add, the twin's result to Float) of values below 2, each at
    /// most half an ulp there (2^-24 = 6e-8): 3e-7.
    let backwardRounding: Float = 3e-7

    func testSoftmaxCrossEntropyMatchesNaive() {
        onEveryPath {
            for (N, K) in Self.lossShapes {
                for scale: Float in [1, 0.5] {
                    let label = "\(N)x\(K) scale \(scale)"
                    let logits = randomArray(N * K, seed: 11).map { $0 * 4 }, labels = randomLabels(N, K, seed: 12)
                    var probabilities = [Float](repeating: 0, count: N * K),
                        refProbabilities = [Double](repeating: 0, count: N * K)
                    let loss = SoftmaxCrossEntropy.forward(&probabilities, logits, labels, N: N, K: K)
                    let refLoss = SoftmaxCrossEntropy.forwardNaive(
                        &refProbabilities, logits.map(Double.init), labels, N: N, K: K)
                    assertClose(probabilities, refProbabilities.map(Float.init), atol: lossTolerance(K), "p " + label)
                    XCTAssertEqual(loss, refLoss, accuracy: Double(lossTolerance(K)), "loss " + label)

                    // dlogits starts at random values: the backward pass adds into it (the twin too).
                    let start = randomArray(N * K, seed: 13)
                    var dlogits = start, refDlogits = start.map(Double.init)
                    SoftmaxCrossEntropy.backward(&dlogits, probabilities, labels, N: N, K: K, scale: scale)
                    SoftmaxCrossEntropy.backwardNaive(
                        &refDlogits, probabilities.map(Double.init), labels, N: N, K: K, scale: Double(scale))
                    assertClose(dlogits, refDlogits.map(Float.init), atol: backwardRounding, "backward " + label)
                }
            }
        }
    }

    func testSoftmaxCrossEntropyBackwardMatchesFiniteDifferences() {
        onEveryPath {
            for (N, K) in Self.lossShapes {
                let scale: Float = 0.5
                let logits = randomArray(N * K, seed: 14).map { $0 * 4 }, labels = randomLabels(N, K, seed: 15)
                func loss(_ l: [Double]) -> Double {
                    var p = [Double](repeating: 0, count: N * K)
                    return Double(scale) * SoftmaxCrossEntropy.forwardNaive(&p, l, labels, N: N, K: K)
                }
                let reference = finiteDifferenceGradient(loss, at: logits.map(Double.init))
                var probabilities = [Float](repeating: 0, count: N * K),
                    dlogits = [Float](repeating: 0.25, count: N * K)
                _ = SoftmaxCrossEntropy.forward(&probabilities, logits, labels, N: N, K: K)
                SoftmaxCrossEntropy.backward(&dlogits, probabilities, labels, N: N, K: K, scale: scale)
                // The probabilities' error times scale / N <= 1, the backward pass's roundings; the
                // differences of the smooth Double loss are good to 1e-9 (finiteDifferenceGradient).
                assertClose(
                    dlogits, reference.map { Float($0 + 0.25) }, atol: lossTolerance(K) + backwardRounding, "\(N)x\(K)")
            }
        }
    }

    func testExtremeLogitsGiveAFiniteLossAndProbabilitiesSummingToOne() {
        onEveryPath {
            // Logits of +-1e4: exp(1e4) overflows even a Double, and the label's probability
            // exp(-2e4) underflows (-log p would be infinite), so only the log-sum-exp form gives the
            // loss. K = 11: a SIMD8 block and a scalar tail.
            let K = 11
            let rows: [[Float]] = [
                (0..<K).map { $0 % 2 == 0 ? 1e4 : -1e4 },  // six maxima
                (0..<K).map { $0 == 7 ? 1e4 : -1e4 },  // one maximum, in the tail
                (0..<K).map { $0 == 2 ? -1e4 : 1e4 },  // one minimum
            ]
            let labels = [1, 0, 2]  // each on a -1e4 logit
            let N = rows.count, logits = rows.flatMap { $0 }
            var probabilities = [Float](repeating: 0, count: N * K),
                refProbabilities = [Double](repeating: 0, count: N * K)
            let loss = SoftmaxCrossEntropy.forward(&probabilities, logits, labels, N: N, K: K)
            let refLoss = SoftmaxCrossEntropy.forwardNaive(
                &refProbabilities, logits.map(Double.init), labels, N: N, K: K)
            // Each row's loss is 2e4 + log(its count of maxima): 6, 1 and 10.
            let expected = (3 * 20_000 + log(6.0) + log(1.0) + log(10.0)) / 3
            XCTAssertTrue(loss.isFinite)
            // The 2e4 part is exact (max - logit in Double); log(count) carries lossTolerance.
            XCTAssertEqual(loss, expected, accuracy: Double(lossTolerance(K)))
            XCTAssertEqual(loss, refLoss, accuracy: Double(lossTolerance(K)))
            assertClose(probabilities, refProbabilities.map(Float.init), atol: lossTolerance(K))
            for n in 0..<N {
                let row = probabilities[(n * K)..<((n + 1) * K)]
                XCTAssertTrue(row.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "row \(n)")
                // K probabilities, each rounded twice (1 / s, then the product): K x 2 x 2^-24.
                XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) }, 1, accuracy: Double(2 * K) * 0x1p-24, "row \(n)")
            }
            var dlogits = [Float](repeating: 0, count: N * K)
            SoftmaxCrossEntropy.backward(&dlogits, probabilities, labels, N: N, K: K)
            XCTAssertTrue(dlogits.allSatisfy { $0.isFinite }, "the gradient is finite")
        }
    }

    func testUniformLogitsGiveLogK() {
        onEveryPath {
            // Equal logits: every exponent is exp(0) = 1 exactly, the row sum is K exactly and
            // max - logit is 0, so the loss is log(K) up to the Double rounding of the mean over rows
            // (1e-12); each probability is 1 / K rounded once, within half an ulp of it.
            for K in [1, 2, 3, 10, 17] {
                for value: Float in [0, 3.7, -1e4, 1e4] {
                    let N = 5
                    let logits = [Float](repeating: value, count: N * K), labels = randomLabels(N, K, seed: 16)
                    var probabilities = [Float](repeating: 0, count: N * K)
                    let loss = SoftmaxCrossEntropy.forward(&probabilities, logits, labels, N: N, K: K)
                    XCTAssertEqual(loss, log(Double(K)), accuracy: 1e-12, "K \(K) logits \(value)")
                    let p = 1 / Float(K)
                    assertClose(probabilities, [Float](repeating: p, count: N * K), atol: p.ulp / 2, "K \(K)")
                }
            }
        }
    }

    func testSoftmaxCrossEntropyIsIdenticalAcrossRunsAndThreadCounts() {
        onEveryPath {
            // 1000 x 10 values: two chunks of rows, so two threads both work.
            let (N, K) = (1000, 10)
            let logits = randomArray(N * K, seed: 17).map { $0 * 8 }, labels = randomLabels(N, K, seed: 18)
            func run() -> (loss: Double, values: [Float]) {
                var probabilities = [Float](repeating: 0, count: N * K), dlogits = randomArray(N * K, seed: 19)
                let loss = SoftmaxCrossEntropy.forward(&probabilities, logits, labels, N: N, K: K)
                SoftmaxCrossEntropy.backward(&dlogits, probabilities, labels, N: N, K: K, scale: 0.7)
                return (loss, probabilities + dlogits)
            }
            let first = withThreads(2, run)
            for again in [withThreads(2, run), withThreads(1, run)] {
                XCTAssertEqual(first.loss, again.loss)
                XCTAssertEqual(first.values, again.values)
            }
        }
    }
}
