// The classifier's head kernels, global average pooling and softmax cross-entropy: fast kernels
// against their Double twins, backward passes against finite differences, accumulation,
// extreme logits and determinism.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ClassifierKernelTests: XCTestCase {
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

    func testPoolingBackwardMatchesFiniteDifferences() {
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

    func testPoolingIsIdenticalAcrossRunsAndThreadCounts() {
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
