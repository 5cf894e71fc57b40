// Winograd F(4x4, 3x3), the forward pass of generation: against the direct naive twin on odd and
// even sizes, partial tiles, several chunks, accumulation, and against F(2x2)'s error.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class Winograd4Tests: KernelPathTestCase {
    /// The largest |fast - reference| over the outputs.
    func maxError(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    func testMatchesNaive() {
        onEveryPath {
            // 1x1 (one partial tile), 5x7 and 6x4 (partial tiles on both sides), 2 x 11 x 10 = 220
            // tiles (ten chunks of 24, the last partial), channels of 8 to 64; 40 output channels
            // end in a partial strip of the packed kernel on both paths (16 and 32 columns).
            for (n, h, w, cin, cout) in [
                (1, 5, 7, 8, 16), (2, 6, 4, 24, 8), (1, 1, 1, 8, 8), (2, 41, 40, 16, 8), (1, 9, 13, 64, 64),
                (1, 7, 9, 16, 40),
            ] {
                let g = ConvGeometry(batch: n, height: h, width: w, inChannels: cin, outChannels: cout, kernel: 3)
                let x = randomArray(g.inputCount, seed: 1), wt = randomArray(g.weightCount, seed: 2),
                    b = randomArray(cout, seed: 3)
                var y4 = [Float](repeating: 0.5, count: g.outputCount), y2 = y4, ref = y4
                Conv2D.forward(&y4, x, wt, b, g, scratch: ConvScratch(), winogradTile: 4)
                Conv2D.forward(&y2, x, wt, b, g, scratch: ConvScratch())
                Conv2D.forwardNaive(&ref, x, wt, b, g)
                // Tolerance: the direct sum's own rounding bound. F(4x4)'s transforms (constants up to 8
                // and 1/24, up to 10 terms a row) amplify rounding: measured here at up to 20 times
                // F(2x2)'s error and at most 0.12 of this bound; a wrong coefficient gives errors of
                // order 0.1 to 1, far above it.
                XCTAssertLessThan(maxError(y2, ref), maxError(y4, ref) + 1e-6, "F(4x4) is not more exact than F(2x2)")
                assertClose(y4, ref, atol: sumTolerance(terms: 9 * cin + 1), "forward " + g.label)
                Conv2D.forward(&y4, x, wt, nil, g, scratch: ConvScratch(), accumulate: true, winogradTile: 4)
                var refNoBias = ref
                Conv2D.forwardNaive(&refNoBias, x, wt, nil, g)
                assertClose(
                    y4, zip(ref, refNoBias).map { $0 + $1 }, atol: 2 * sumTolerance(terms: 9 * cin + 1),
                    "accumulate " + g.label)
            }
        }
    }
}
