// Convolutions against their naive twins, the "same" padding rule, and determinism.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ConvTests: KernelPathTestCase {
    /// Awkward shapes: odd sizes, 1x1 images, channels not a multiple of 8 or 16, batch 1,
    /// stride 2 on even and odd sizes, a channel count over the GEMM's K block; the last two
    /// have weights over 512 KiB and short rows, whose gradient takes the im2col + GEMM path;
    /// the 1x1 one with 3 input channels (the stem) takes the pointwise weight-gradient kernel.
    let shapes: [(n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int)] = [
        (1, 5, 7, 3, 5, 3, 1), (2, 6, 8, 13, 17, 3, 2), (1, 7, 5, 16, 32, 3, 2), (1, 1, 1, 9, 7, 3, 1),
        (1, 1, 1, 4, 6, 3, 2), (2, 4, 3, 20, 19, 1, 1), (1, 3, 4, 200, 8, 3, 1), (1, 2, 9, 8, 33, 1, 2),
        (1, 5, 6, 128, 120, 3, 1), (2, 5, 7, 72, 250, 3, 2), (2, 40, 30, 3, 24, 1, 1),
    ]

    func geometry(_ sh: (n: Int, h: Int, w: Int, cin: Int, cout: Int, k: Int, s: Int)) -> ConvGeometry {
        ConvGeometry(
            batch: sh.n, height: sh.h, width: sh.w, inChannels: sh.cin, outChannels: sh.cout, kernel: sh.k,
            stride: sh.s)
    }

    func testSamePaddingRule() {
        onEveryPath {
            // 3x3 stride 2 on an even size: 0 before, 1 after (TensorFlow), unlike PyTorch's 1/1.
            var g = ConvGeometry(batch: 1, height: 8, width: 6, inChannels: 1, outChannels: 1, kernel: 3, stride: 2)
            XCTAssertEqual([g.outHeight, g.outWidth, g.padTop, g.padLeft], [4, 3, 0, 0])
            g = ConvGeometry(batch: 1, height: 7, width: 5, inChannels: 1, outChannels: 1, kernel: 3, stride: 2)
            XCTAssertEqual([g.outHeight, g.outWidth, g.padTop, g.padLeft], [4, 3, 1, 1])
            g = ConvGeometry(batch: 1, height: 7, width: 6, inChannels: 1, outChannels: 1, kernel: 3, stride: 1)
            XCTAssertEqual([g.outHeight, g.outWidth, g.padTop, g.padLeft], [7, 6, 1, 1])
            g = ConvGeometry(batch: 1, height: 7, width: 6, inChannels: 1, outChannels: 1, kernel: 1, stride: 1)
            XCTAssertEqual([g.padTop, g.padLeft], [0, 0])
        }
    }

    func testStrideTwoEvenSizeUsesNoPaddingBefore() {
        onEveryPath {
            // A 1-channel 4x4 ramp, a kernel that picks the top-left tap: with 0 padding before,
            // output (0, 0) reads input (0, 0) (PyTorch's symmetric padding would read a zero).
            let input: [Float] = (0..<16).map { Float($0 + 1) }
            var weight = [Float](repeating: 0, count: 9)
            weight[0] = 1
            let g = ConvGeometry(batch: 1, height: 4, width: 4, inChannels: 1, outChannels: 1, kernel: 3, stride: 2)
            var out = [Float](repeating: 0, count: 4)
            Conv2D.forward(&out, input, weight, nil, g, scratch: ConvScratch())
            XCTAssertEqual(out, [1, 3, 9, 11])
        }
    }

    func testForwardMatchesNaive() {
        onEveryPath {
            for (i, sh) in shapes.enumerated() {
                let g = geometry(sh)
                let x = randomArray(g.inputCount, seed: UInt64(i)),
                    w = randomArray(g.weightCount, seed: 100 + UInt64(i))
                let b = randomArray(sh.cout, seed: 200)
                var fast = [Float](repeating: 0, count: g.outputCount), slow = fast
                Conv2D.forward(&fast, x, w, b, g, scratch: ConvScratch())
                Conv2D.forwardNaive(&slow, x, w, b, g)
                assertClose(fast, slow, atol: sumTolerance(terms: sh.k * sh.k * sh.cin + 1), g.label)
                // accumulate adds the same result again
                Conv2D.forward(&fast, x, w, b, g, scratch: ConvScratch(), accumulate: true)
                assertClose(fast, slow.map { 2 * $0 }, atol: 2 * sumTolerance(terms: sh.k * sh.k * sh.cin + 1), g.label)
            }
        }
    }

    func testBackwardInputMatchesNaive() {
        onEveryPath {
            for (i, sh) in shapes.enumerated() {
                let g = geometry(sh)
                let dy = randomArray(g.outputCount, seed: UInt64(i)),
                    w = randomArray(g.weightCount, seed: 100 + UInt64(i))
                var fast = [Float](repeating: 7, count: g.inputCount), slow = fast
                Conv2D.backwardInput(&fast, dy, w, g, scratch: ConvScratch())
                Conv2D.backwardInputNaive(&slow, dy, w, g)
                // fast started at 7 and the backward pass adds into it; the naive twin overwrites.
                assertClose(
                    fast, slow.map { $0 + 7 }, atol: sumTolerance(terms: sh.k * sh.k * sh.cout) + 1e-6 * 7, g.label)
            }
        }
    }

    func testBackwardWeightsMatchesNaive() {
        onEveryPath {
            for (i, sh) in shapes.enumerated() {
                let g = geometry(sh)
                let x = randomArray(g.inputCount, seed: UInt64(i)),
                    dy = randomArray(g.outputCount, seed: 300 + UInt64(i))
                var fast = [Float](repeating: 7, count: g.weightCount), slow = fast
                var fastB = [Float](repeating: 7, count: sh.cout), slowB = fastB
                Conv2D.backwardWeights(&fast, &fastB, x, dy, g, scratch: ConvScratch())
                Conv2D.backwardWeightsNaive(&slow, &slowB, x, dy, g)
                let terms = sh.n * g.outHeight * g.outWidth
                // fast started at 7 and the backward pass adds into it; the naive twin overwrites.
                assertClose(fast, slow.map { $0 + 7 }, atol: sumTolerance(terms: terms) + 1e-6 * 7, g.label)
                assertClose(fastB, slowB.map { $0 + 7 }, atol: sumTolerance(terms: terms) + 1e-6 * 7, g.label)
            }
        }
    }

    func testTransposedConvolutionDoublesTheSizeAndIsTheAdjoint() {
        onEveryPath {
            // <convT(x), y> = <x, conv(y)> for the stride-2 convolution it transposes.
            for (n, h, w, cin, cout) in [(1, 3, 5, 7, 4), (2, 4, 4, 16, 16), (1, 1, 1, 5, 3)] {
                let g = ConvTranspose2D.geometry(batch: n, height: h, width: w, inChannels: cin, outChannels: cout)
                XCTAssertEqual([g.height, g.width], [2 * h, 2 * w])
                let x = randomArray(n * h * w * cin, seed: 1), y = randomArray(n * 4 * h * w * cout, seed: 2)
                let weight = randomArray(9 * cout * cin, seed: 3)
                var tx = [Float](repeating: 0, count: y.count), cy = [Float](repeating: 0, count: x.count)
                ConvTranspose2D.forward(&tx, x, weight, nil, g, scratch: ConvScratch())
                Conv2D.forwardNaive(&cy, y, weight, nil, g)
                let lhs = zip(tx, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                let rhs = zip(x, cy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(rhs)), "\(n)x\(h)x\(w)x\(cin)->\(cout)")
            }
        }
    }

    func testTransposedConvolutionBackwardPassesMatchNaive() {
        onEveryPath {
            // A transposed convolution's passes are its convolution's with the roles swapped: its
            // backward-input is that convolution's forward, its weight gradient that convolution's
            // weight gradient with input and output exchanged. Both add into what is there (0.5).
            for (n, h, w, cin, cout) in [(1, 3, 5, 7, 4), (2, 4, 4, 16, 16), (1, 1, 1, 5, 3)] {
                let g = ConvTranspose2D.geometry(batch: n, height: h, width: w, inChannels: cin, outChannels: cout)
                let x = randomArray(n * h * w * cin, seed: 1), dy = randomArray(n * 4 * h * w * cout, seed: 2)
                let weight = randomArray(9 * cout * cin, seed: 3)
                var dx = [Float](repeating: 0.5, count: x.count), refDx = dx
                ConvTranspose2D.backwardInput(&dx, dy, weight, g, scratch: ConvScratch())
                Conv2D.forwardNaive(&refDx, dy, weight, nil, g)
                let label = "\(n)x\(h)x\(w)x\(cin)->\(cout)"
                assertClose(dx, refDx.map { $0 + 0.5 }, atol: sumTolerance(terms: 9 * cout) + 1e-6, "dx " + label)
                var dw = [Float](repeating: 0.5, count: weight.count), db = [Float](repeating: 0.5, count: cout)
                var refDw = dw
                ConvTranspose2D.backwardWeights(&dw, &db, x, dy, g, scratch: ConvScratch())
                Conv2D.backwardWeightsNaive(&refDw, nil, dy, x, g)
                let refDb = (0..<cout).map { c in (0..<(n * 4 * h * w)).reduce(Float(0.5)) { $0 + dy[$1 * cout + c] } }
                assertClose(dw, refDw.map { $0 + 0.5 }, atol: sumTolerance(terms: n * h * w) + 1e-6, "dweight " + label)
                assertClose(db, refDb, atol: sumTolerance(terms: n * 4 * h * w) + 1e-6, "dbias " + label)
            }
        }
    }

    func testWinogradMatchesNaive() {
        onEveryPath {
            // F(2x2, 3x3) on odd and even sizes (partial tiles at the edges), several tile chunks
            // (2 x 41 x 40 = 840 tiles > 768 per chunk), channels in SIMD8 vectors.
            // Tolerance: each output is the direct sum's 9 Cin products regrouped through the
            // transforms, whose coefficients are 0, +-1 and +-1/2 and which add at most 4 values at
            // each of three stages: rounding grows by at most 4^2 over the direct sum's bound.
            for (n, h, w, cin, cout) in [(1, 5, 7, 8, 16), (2, 6, 4, 24, 8), (1, 1, 1, 8, 8), (2, 82, 80, 8, 8)] {
                let g = ConvGeometry(batch: n, height: h, width: w, inChannels: cin, outChannels: cout, kernel: 3)
                XCTAssertTrue(Winograd.applies(g))
                let x = randomArray(g.inputCount, seed: 1), wt = randomArray(g.weightCount, seed: 2),
                    b = randomArray(cout, seed: 3)
                let dy = randomArray(g.outputCount, seed: 4)
                let label = g.label
                var y = [Float](repeating: 0.5, count: g.outputCount), ref = y
                Conv2D.forward(&y, x, wt, b, g, scratch: ConvScratch())
                Conv2D.forwardNaive(&ref, x, wt, b, g)
                assertClose(y, ref, atol: 16 * sumTolerance(terms: 9 * cin + 1), "forward " + label)
                // Accumulating adds to what is there (0.5).
                Conv2D.forward(&y, x, wt, nil, g, scratch: ConvScratch(), accumulate: true)
                var refNoBias = ref
                Conv2D.forwardNaive(&refNoBias, x, wt, nil, g)
                assertClose(
                    y, zip(ref, refNoBias).map { $0 + $1 }, atol: 32 * sumTolerance(terms: 9 * cin + 1),
                    "accumulate " + label)
                var dx = [Float](repeating: 0.5, count: g.inputCount), refDx = dx
                Conv2D.backwardInput(&dx, dy, wt, g, scratch: ConvScratch())
                Conv2D.backwardInputNaive(&refDx, dy, wt, g)
                assertClose(
                    dx, refDx.map { $0 + 0.5 }, atol: 16 * sumTolerance(terms: 9 * cout) + 1e-6,
                    "backward input " + label)
                // The weight gradient sums over every pixel: the same regrouping argument over
                // n h w terms per weight.
                var dw = [Float](repeating: 0.5, count: g.weightCount), db = [Float](repeating: 0.5, count: cout)
                var refDw = dw, refDb = db
                Conv2D.backwardWeights(&dw, &db, x, dy, g, scratch: ConvScratch())
                Conv2D.backwardWeightsNaive(&refDw, &refDb, x, dy, g)
                assertClose(
                    dw, refDw.map { $0 + 0.5 }, atol: 16 * sumTolerance(terms: n * h * w) + 1e-6,
                    "backward weights " + label)
                assertClose(
                    db, refDb.map { $0 + 0.5 }, atol: sumTolerance(terms: n * h * w) + 1e-6, "backward bias " + label)
            }
        }
    }

    func testDeterministicAcrossRuns() {
        onEveryPath {
            let g = ConvGeometry(batch: 2, height: 9, width: 14, inChannels: 24, outChannels: 32, kernel: 3, stride: 1)
            let x = randomArray(g.inputCount, seed: 1), w = randomArray(g.weightCount, seed: 2),
                dy = randomArray(g.outputCount, seed: 3)
            func run() -> [Float] {
                var y = [Float](repeating: 0, count: g.outputCount), dx = [Float](repeating: 0, count: g.inputCount)
                var dw = [Float](repeating: 0, count: g.weightCount), db = [Float](repeating: 0, count: 32)
                Conv2D.forward(&y, x, w, nil, g, scratch: ConvScratch())
                Conv2D.backwardInput(&dx, dy, w, g, scratch: ConvScratch())
                Conv2D.backwardWeights(&dw, &db, x, dy, g, scratch: ConvScratch())
                return y + dx + dw + db
            }
            XCTAssertEqual(run(), run())
        }
    }
}
