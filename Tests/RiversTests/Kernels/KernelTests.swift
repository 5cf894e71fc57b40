// Elementwise, GroupNorm, dense, attention, loss and embedding kernels: naive twins and
// finite differences of Double references.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class KernelTests: KernelPathTestCase {
    func testFastExpMatchesLibm() {
        onEveryPath {
            // Cephes' expf polynomial: within 2 ulp in its range; 4 ulp (4.8e-7 relative) allows
            // for the rounding of the range reduction.
            var worst: Float = 0
            var x: Float = -87
            while x < 88 {
                let v = FastMath.exp(SIMD8<Float>(repeating: x))[0]
                worst = max(worst, abs(v - Foundation.exp(x)) / Foundation.exp(x))
                x += 0.0137
            }
            XCTAssertLessThan(worst, 4.8e-7)
        }
    }

    func testSwishForwardAndBackward() {
        onEveryPath {
            let n = 37  // not a multiple of 8: the scalar tail runs too
            let x = randomArray(n, seed: 1).map { $0 * 6 }, r = randomArray(n, seed: 2)
            var y = [Float](repeating: 0, count: n), dx = [Float](repeating: 0.25, count: n)
            Elementwise.swishForward(&y, x, n)
            func swish(_ v: Double) -> Double { v / (1 + Foundation.exp(-v)) }
            // Relative error of a few ulp from the exp and the division: 1e-6 relative.
            assertClose(y, x.map { Float(swish(Double($0))) }, atol: 1e-6, rtol: 1e-6)
            Elementwise.swishBackward(&dx, r, x, n)
            let reference = finiteDifferenceGradient(
                { v in dot(v.map(swish), r.map(Double.init)) }, at: x.map(Double.init))
            // dx started at 0.25: the backward pass adds into it.
            assertClose(dx, reference.map { Float($0 + 0.25) }, atol: 1e-5, rtol: 1e-5)
        }
    }

    /// The GroupNorm of a materialized input x [N, HW, C + Cc] in Double: output(GN(input(x))).
    static func groupNormReference(
        _ xs: [Double], _ gs: [Double], _ bs: [Double], N: Int, HW: Int, C: Int, G: Int,
        input: Activation, output: Activation
    ) -> [Double] {
        func act(_ a: Activation, _ v: Double) -> Double { a == .swish ? v / (1 + Foundation.exp(-v)) : v }
        var out = [Double](repeating: 0, count: xs.count)
        let cg = C / G
        for n in 0..<N {
            for g in 0..<G {
                var vals: [Double] = []
                for p in 0..<HW {
                    for c in (g * cg)..<((g + 1) * cg) { vals.append(act(input, xs[(n * HW + p) * C + c])) }
                }
                let m = vals.reduce(0, +) / Double(vals.count)
                let v = vals.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(vals.count)
                for p in 0..<HW {
                    for c in (g * cg)..<((g + 1) * cg) {
                        let i = (n * HW + p) * C + c
                        out[i] = act(output, (act(input, xs[i]) - m) / (v + 1e-3).squareRoot() * gs[c] + bs[c])
                    }
                }
            }
        }
        return out
    }

    func testGroupNormMatchesNaiveAndFiniteDifferences() {
        onEveryPath {
            // (1, 600, 8, 0) is cut into pixel chunks; C = 12 takes the scalar (non-SIMD8) path;
            // constant channels share a group with stored ones in (2, 5, 8, 4, 4) and (1, 7, 8, 24, 8)
            // (a mixed group and whole constant groups, as in the first residual block).
            let cases = [
                (2, 15, 16, 0, 8), (1, 1, 24, 0, 8), (3, 7, 8, 0, 8), (1, 600, 8, 0, 8), (2, 5, 12, 0, 4),
                (2, 5, 8, 4, 4),
                (1, 7, 8, 24, 8),
            ]
            for (N, HW, C, Cc, G) in cases {
                for (input, output) in [
                    (Activation.identity, Activation.identity), (.swish, .identity), (.identity, .swish),
                ] {
                    let Ct = C + Cc
                    let label = "\(N)x\(HW)x\(C)+\(Cc) \(input)->\(output)"
                    let shape = GroupNormShape(
                        N: N, HW: HW, C: C, constantChannels: Cc, groups: G, input: input, output: output)
                    let x = randomArray(N * HW * C, seed: 3).map { $0 * 2 + 0.5 },
                        constants = randomArray(N * Cc, seed: 7).map { $0 * 2 }
                    let gamma = randomArray(Ct, seed: 4).map { $0 + 1.5 }, beta = randomArray(Ct, seed: 5)
                    // The materialized input: stored channels, then each image's constants at every pixel.
                    var full = [Double](repeating: 0, count: N * HW * Ct)
                    for p in 0..<(N * HW) {
                        for c in 0..<C { full[p * Ct + c] = Double(x[p * C + c]) }
                        for c in 0..<Cc { full[p * Ct + C + c] = Double(constants[(p / HW) * Cc + c]) }
                    }
                    var y = [Float](repeating: 0, count: x.count), yc = [Float](repeating: 0, count: max(N * Cc, 1))
                    var mean = [Float](repeating: 0, count: N * G), rstd = mean
                    let scratch = GroupNormScratch()
                    GroupNorm.forward(
                        &y, constantOut: &yc, &mean, &rstd, x, constants: constants, gamma, beta, shape,
                        scratch: scratch)
                    let gd = gamma.map(Double.init), bd = beta.map(Double.init)
                    let ref = Self.groupNormReference(
                        full, gd, bd, N: N, HW: HW, C: Ct, G: G, input: input, output: output)
                    // Normalized values are O(1) (times gamma <= 2.5): float rounding of a few ulp.
                    assertClose(
                        y, (0..<(N * HW)).flatMap { p in (0..<C).map { Float(ref[p * Ct + $0]) } }, atol: 3e-6,
                        rtol: 3e-6,
                        "forward " + label)
                    if Cc > 0 {
                        assertClose(
                            Array(yc[0..<(N * Cc)]),
                            (0..<(N * Cc)).map { Float(ref[($0 / Cc) * HW * Ct + C + $0 % Cc]) },
                            atol: 3e-6, rtol: 3e-6, "constants " + label)
                    }
                    // The naive twin (materialized, no constants) agrees with the Double reference.
                    if Cc == 0 {
                        var naive = [Float](repeating: 0, count: x.count)
                        GroupNorm.forwardNaive(
                            &naive, x, gamma, beta, N: N, HW: HW, C: C, groups: G, input: input, output: output)
                        assertClose(naive, ref.map(Float.init), atol: 1e-6, rtol: 1e-6, "naive " + label)
                    }
                    // Backward against finite differences of the Double reference, for the loss
                    // sum r * output over every materialized value (constants' r summed per image).
                    let r = randomArray(N * HW * Ct, seed: 6).map(Double.init)
                    func loss(_ xs: [Double], _ gs: [Double], _ bs: [Double]) -> Double {
                        dot(
                            Self.groupNormReference(
                                xs, gs, bs, N: N, HW: HW, C: Ct, G: G, input: input, output: output), r)
                    }
                    let dout = (0..<(N * HW)).flatMap { p in (0..<C).map { Float(r[p * Ct + $0]) } }
                    let dconst = (0..<(N * Cc)).map { i in
                        (0..<HW).reduce(Float(0)) { $0 + Float(r[((i / Cc) * HW + $1) * Ct + C + i % Cc]) }
                    }
                    // Start from ones: the kernel adds into every gradient (the accumulate rule).
                    var dx = [Float](repeating: 1, count: x.count), dg = [Float](repeating: 1, count: Ct), db = dg
                    GroupNorm.backward(
                        &dx, &dg, &db, dout, dconstantOut: dconst, x, constants: constants, mean, rstd, gamma, beta,
                        shape,
                        scratch: scratch)
                    let fdx = finiteDifferenceGradient({ loss($0, gd, bd) }, at: full)
                    // Gradients are sums of O(HW) float terms of O(1): 1e-4 absolute covers their rounding.
                    assertClose(
                        dx, (0..<(N * HW)).flatMap { p in (0..<C).map { Float(fdx[p * Ct + $0] + 1) } }, atol: 1e-4,
                        rtol: 1e-4, "dx " + label)
                    assertClose(
                        dg, finiteDifferenceGradient({ loss(full, $0, bd) }, at: gd).map { Float($0 + 1) }, atol: 1e-4,
                        rtol: 1e-4, "dgamma " + label)
                    assertClose(
                        db, finiteDifferenceGradient({ loss(full, gd, $0) }, at: bd).map { Float($0 + 1) }, atol: 1e-4,
                        rtol: 1e-4, "dbeta " + label)
                    // apply() with the saved statistics reproduces forward's output exactly.
                    var again = [Float](repeating: 0, count: x.count), againC = yc
                    GroupNorm.apply(
                        &again, constantOut: &againC, x, constants: constants, mean, rstd, gamma, beta, shape,
                        scratch: scratch)
                    XCTAssertEqual(again, y, "apply " + label)
                    XCTAssertEqual(againC, yc, "apply constants " + label)
                }
            }
        }
    }

    func testGroupNormIsIdenticalOnOneAndTwoThreads() {
        onEveryPath {
            let (N, HW, C, G) = (2, 1000, 16, 8)
            let x = randomArray(N * HW * C, seed: 1), dy = randomArray(N * HW * C, seed: 2),
                gamma = randomArray(C, seed: 3), beta = randomArray(C, seed: 4)
            let shape = GroupNormShape(N: N, HW: HW, C: C, groups: G, input: .swish)
            func run(threads: Int) -> [Float] {
                let saved = Parallel.threadCount
                Parallel.threadCount = threads
                defer { Parallel.threadCount = saved }
                var y = [Float](repeating: 0, count: x.count), dx = y, mean = [Float](repeating: 0, count: N * G),
                    rstd = mean
                var dg = [Float](repeating: 0, count: C), db = dg
                let scratch = GroupNormScratch()
                GroupNorm.forward(&y, &mean, &rstd, x, gamma, beta, shape, scratch: scratch)
                GroupNorm.backward(&dx, &dg, &db, dy, x, mean, rstd, gamma, beta, shape, scratch: scratch)
                return y + dx + dg + db + mean + rstd
            }
            XCTAssertEqual(run(threads: 1), run(threads: 2))
        }
    }

    func testDenseForwardAndBackwardMatchNaive() {
        onEveryPath {
            let (M, I, O) = (11, 7, 19)
            let x = randomArray(M * I, seed: 1), w = randomArray(I * O, seed: 2), b = randomArray(O, seed: 3),
                dy = randomArray(M * O, seed: 4)
            var y = [Float](repeating: 0, count: M * O), ref = y
            Dense.forward(&y, x, w, b, M: M, inputs: I, outputs: O, scratch: GemmScratch())
            Gemm.multiplyNaive(
                M: M, N: O, K: I, a: x, lda: I, transposeA: false, b: w, ldb: O, transposeB: false, c: &ref, ldc: O,
                bias: b
            )
            assertClose(y, ref, atol: sumTolerance(terms: I + 1))
            // Gradients start at 0.25: the backward pass adds into them (the naive twins accumulate too).
            var dx = [Float](repeating: 0.25, count: M * I), dw = [Float](repeating: 0.25, count: I * O),
                db = [Float](repeating: 0.25, count: O)
            Dense.backward(&dx, &dw, &db, dy, x, w, M: M, inputs: I, outputs: O, scratch: GemmScratch())
            var rdx = [Float](repeating: 0.25, count: M * I), rdw = [Float](repeating: 0.25, count: I * O)
            Gemm.multiplyNaive(
                M: M, N: I, K: O, a: dy, lda: O, transposeA: false, b: w, ldb: O, transposeB: true, c: &rdx, ldc: I,
                accumulate: true)
            Gemm.multiplyNaive(
                M: I, N: O, K: M, a: x, lda: I, transposeA: true, b: dy, ldb: O, transposeB: false, c: &rdw, ldc: O,
                accumulate: true)
            assertClose(dx, rdx, atol: sumTolerance(terms: O))
            assertClose(dw, rdw, atol: sumTolerance(terms: M))
            assertClose(
                db, (0..<O).map { o in (0..<M).reduce(Float(0.25)) { $0 + dy[$1 * O + o] } },
                atol: sumTolerance(terms: M))
        }
    }

    /// Attention weights and buffers for one test configuration.
    struct AttentionFixture {
        let N: Int, L: Int, C: Int, h: Int, d: Int
        var weights: [[Float]]
        init(N: Int, L: Int, C: Int, h: Int, d: Int) {
            self.N = N; self.L = L; self.C = C; self.h = h; self.d = d
            weights = AttentionWeights.sizes(channels: C, heads: h, keyDim: d).enumerated().map { i, n in
                randomArray(n, seed: 50 + UInt64(i)).map { $0 * 0.6 }
            }
        }
        func run(x: [Float], dout: [Float], mask: [Float]?) -> (y: [Float], dx: [Float], dw: [[Float]]) {
            var w = weights
            // Gradients start at 0.25 (removed before returning): the backward pass adds into them.
            var grads = weights.map { [Float](repeating: 0.25, count: $0.count) }
            let cacheSizes = AttentionCache.sizes(batch: N, length: L, heads: h, keyDim: d)
            var cacheBuffers = cacheSizes.map { [Float](repeating: 0, count: $0) }
            var y = [Float](repeating: 0, count: N * L * C), dx = [Float](repeating: 0.25, count: N * L * C)
            var work = [Float](repeating: 0, count: 4 * N * L * h * d + 2 * L * L)
            let scratch = GemmScratch()
            func ptrs(_ arrays: inout [[Float]], _ body: ([UnsafeMutablePointer<Float>]) -> Void) {
                var pointers: [UnsafeMutablePointer<Float>] = []
                for i in 0..<arrays.count {
                    pointers.append(arrays[i].withUnsafeMutableBufferPointer { $0.baseAddress! })
                }
                body(pointers)
            }
            ptrs(&w) { wp in
                ptrs(&grads) { gp in
                    ptrs(&cacheBuffers) { cp in
                        let aw = AttentionWeights(
                            wq: wp[0], bq: wp[1], wk: wp[2], bk: wp[3], wv: wp[4], bv: wp[5], wo: wp[6], bo: wp[7])
                        let ag = AttentionWeights(
                            wq: gp[0], bq: gp[1], wk: gp[2], bk: gp[3], wv: gp[4], bv: gp[5], wo: gp[6], bo: gp[7])
                        let cache = AttentionCache(q: cp[0], k: cp[1], v: cp[2], probs: cp[3], context: cp[4])
                        work.withUnsafeMutableBufferPointer { wk in
                            Attention.forward(
                                &y, cache, x, aw, N: N, L: L, C: C, heads: h, keyDim: d, dropoutMask: mask,
                                work: wk.baseAddress, scratch: scratch)
                            Attention.backward(
                                &dx, ag, dout, x, aw, cache, N: N, L: L, C: C, heads: h, keyDim: d, dropoutMask: mask,
                                work: wk.baseAddress!, scratch: scratch)
                        }
                    }
                }
            }
            return (y, dx.map { $0 - 0.25 }, grads.map { $0.map { $0 - 0.25 } })
        }
    }

    func testAttentionMatchesNaiveAndFiniteDifferences() {
        onEveryPath {
            for (N, L, C, h, d, dropout) in [(2, 5, 6, 2, 3, false), (1, 7, 8, 1, 8, false), (1, 6, 4, 2, 2, true)] {
                let f = AttentionFixture(N: N, L: L, C: C, h: h, d: d)
                let x = randomArray(N * L * C, seed: 7), dout = randomArray(N * L * C, seed: 8)
                var rng = SeededGenerator(seed: 9)
                let mask: [Float]? =
                    dropout ? (0..<(N * h * L * L)).map { _ in rng.uniform() < 0.2 ? 0 : 1 / 0.8 } : nil
                let (y, dx, dw) = f.run(x: x, dout: dout, mask: mask)
                let wd = f.weights.map { $0.map(Double.init) }
                func image(_ n: Int) -> Range<Int> { (n * L * C)..<((n + 1) * L * C) }
                func maskOf(_ n: Int) -> [Double]? {
                    mask.map { Array($0[(n * h * L * L)..<((n + 1) * h * L * L)]).map(Double.init) }
                }
                func loss(_ xs: [Double], _ ws: [[Double]]) -> Double {
                    (0..<N).reduce(0.0) { s, n in
                        s
                            + dot(
                                Attention.forwardNaive(
                                    x: Array(xs[image(n)]), L: L, C: C, heads: h, keyDim: d, weights: ws,
                                    mask: maskOf(n)),
                                Array(dout[image(n)]).map(Double.init))
                    }
                }
                let label = "N \(N) L \(L) C \(C) h \(h) d \(d) dropout \(dropout)"
                let reference = (0..<N).flatMap { n in
                    Attention.forwardNaive(
                        x: x[image(n)].map(Double.init), L: L, C: C, heads: h, keyDim: d, weights: wd, mask: maskOf(n))
                }
                // Sums of O(C) and O(L) float products of O(1): 1e-5.
                assertClose(y, reference.map(Float.init), atol: 1e-5, rtol: 1e-5, "forward " + label)
                let xd = x.map(Double.init)
                // Gradients chain four products of O(1) values; float rounding stays under 1e-4.
                assertClose(
                    dx, finiteDifferenceGradient({ loss($0, wd) }, at: xd).map(Float.init), atol: 1e-4, rtol: 1e-4,
                    "dx " + label)
                for i in 0..<8 {
                    let g = finiteDifferenceGradient(
                        {
                            var ws = wd; ws[i] = $0; return loss(xd, ws)
                        }, at: wd[i])
                    assertClose(dw[i], g.map(Float.init), atol: 1e-4, rtol: 1e-4, "weight \(i) " + label)
                }
            }
        }
    }

    func testAttentionIsDeterministic() {
        onEveryPath {
            let f = AttentionFixture(N: 2, L: 9, C: 8, h: 2, d: 4)
            let x = randomArray(2 * 9 * 8, seed: 1), dout = randomArray(2 * 9 * 8, seed: 2)
            let a = f.run(x: x, dout: dout, mask: nil), b = f.run(x: x, dout: dout, mask: nil)
            XCTAssertEqual(a.y, b.y)
            XCTAssertEqual(a.dx, b.dx)
            XCTAssertEqual(a.dw, b.dw)
        }
    }

    func testMeanAbsoluteErrorAndGradient() {
        onEveryPath {
            let p = randomArray(20, seed: 1), t = randomArray(20, seed: 2)
            XCTAssertEqual(
                Double(Elementwise.meanAbsoluteError(p, t, 20)),
                zip(p, t).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / 20, accuracy: 1e-6)
            var g = [Float](repeating: 0.25, count: 20)
            Elementwise.meanAbsoluteErrorBackward(&g, p, t, 20)
            g = g.map { $0 - 0.25 }  // it adds into the gradient
            // Away from the kink |p - t| = 0 the MAE is linear: differences are exact up to rounding.
            let td = t.map(Double.init)
            let reference = finiteDifferenceGradient(
                { v in zip(v, td).reduce(0) { $0 + abs($1.0 - $1.1) } / 20 }, at: p.map(Double.init))
            assertClose(g, reference.map(Float.init), atol: 1e-7)
        }
    }

    func testConcatAndSplitChannels() {
        onEveryPath {
            let a = randomArray(6 * 3, seed: 1), b = randomArray(6 * 5, seed: 2)
            var y = [Float](repeating: 0, count: 6 * 8)
            Elementwise.concatChannels(&y, a, 3, b, 5, pixels: 6)
            XCTAssertEqual(Array(y[8..<11]), Array(a[3..<6]))
            XCTAssertEqual(Array(y[11..<16]), Array(b[5..<10]))
            // Starting at 1: the split adds into both gradients.
            var da = [Float](repeating: 1, count: a.count), db = [Float](repeating: 1, count: b.count)
            Elementwise.splitChannels(&da, 3, &db, 5, y, pixels: 6)
            XCTAssertEqual(da, a.map { $0 + 1 })
            XCTAssertEqual(db, b.map { $0 + 1 })
        }
    }

    func testNoiseEmbedding() {
        onEveryPath {
            // E = 4: frequencies 1 and 1000. For v = 0.25: sin(pi/2) = 1, sin(500 pi) = 0,
            // cos(pi/2) = 0, cos(500 pi) = 1 (Double angles rounded once to Float: 1e-6).
            var emb = [Float](repeating: 0, count: 8)
            NoiseEmbedding.forward(&emb, variances: [0.25, 0], N: 2, dims: 4)
            assertClose(emb, [1, 0, 0, 1, 0, 0, 1, 1], atol: 1e-6)
        }
    }

    func testConstantChannelsEqualTheMaterialisedConvolution() {
        onEveryPath {
            for (n, h, w, cImage, cConst, cout, k, s) in [
                (2, 5, 7, 3, 6, 5, 3, 1), (1, 6, 4, 4, 5, 3, 3, 2), (2, 3, 3, 2, 4, 6, 1, 1), (1, 1, 1, 2, 3, 4, 3, 1),
            ] {
                let cin = cImage + cConst
                let g = ConvGeometry(
                    batch: n, height: h, width: w, inChannels: cin, outChannels: cout, kernel: k, stride: s)
                let gImage = ConvGeometry(
                    batch: n, height: h, width: w, inChannels: cImage, outChannels: cout, kernel: k, stride: s)
                let image = randomArray(n * h * w * cImage, seed: 1), values = randomArray(n * cConst, seed: 2),
                    weight = randomArray(g.weightCount, seed: 3)
                // The materialized input: image channels, then the constants at every pixel.
                var full = [Float](repeating: 0, count: g.inputCount)
                for p in 0..<(n * h * w) {
                    for c in 0..<cImage { full[p * cin + c] = image[p * cImage + c] }
                    for c in 0..<cConst { full[p * cin + cImage + c] = values[(p / (h * w)) * cConst + c] }
                }
                var imageWeight: [Float] = []
                for tap in 0..<(k * k) {
                    for c in 0..<cImage {
                        imageWeight += weight[((tap * cin + c) * cout)..<((tap * cin + c + 1) * cout)]
                    }
                }
                var reference = [Float](repeating: 0, count: g.outputCount), y = reference
                Conv2D.forwardNaive(&reference, full, weight, nil, g)
                Conv2D.forward(&y, image, imageWeight, nil, gImage, scratch: ConvScratch())
                ConstantChannels.forward(
                    &y, values: values, offset: cImage, count: cConst, weight, g, scratch: ConstantChannelsScratch())
                let label = "\(g.label) k\(k) s\(s)"
                assertClose(y, reference, atol: sumTolerance(terms: k * k * cin), label)

                let dout = randomArray(g.outputCount, seed: 4)
                var dfull = [Float](repeating: 0, count: g.inputCount),
                    dweightRef = [Float](repeating: 0, count: g.weightCount)
                Conv2D.backwardInputNaive(&dfull, dout, weight, g)
                Conv2D.backwardWeightsNaive(&dweightRef, nil, full, dout, g)
                // Gradients start at ones: the kernel adds into them.
                var dvalues = [Float](repeating: 1, count: n * cConst),
                    dweight = [Float](repeating: 1, count: g.weightCount)
                ConstantChannels.backward(
                    dvalues: &dvalues, dweight: &dweight, dout, values: values, offset: cImage, count: cConst, weight,
                    g,
                    scratch: ConstantChannelsScratch())
                dvalues = dvalues.map { $0 - 1 }
                dweight = dweight.map { $0 - 1 }
                // A constant channel's gradient is the sum of the materialized one over the image's pixels.
                let dvaluesRef = (0..<(n * cConst)).map { i -> Float in
                    let (img, c) = (i / cConst, i % cConst)
                    return (0..<(h * w)).reduce(Float(0)) { $0 + dfull[((img * h * w) + $1) * cin + cImage + c] }
                }
                assertClose(dvalues, dvaluesRef, atol: sumTolerance(terms: h * w * k * k * cout), "dvalues " + label)
                for tap in 0..<(k * k) {
                    for c in cImage..<cin {
                        for co in 0..<cout {
                            let i = (tap * cin + c) * cout + co
                            XCTAssertEqual(
                                dweight[i], dweightRef[i], accuracy: sumTolerance(terms: n * h * w), "dweight " + label)
                        }
                    }
                }
            }
        }
    }

    func testTensorEntryPointsCheckShapes() {
        onEveryPath {
            var rng = SeededGenerator(seed: 1)
            let x = Tensor.normal(shape: [1, 4, 6, 8], using: &rng)
            let w = Tensor.normal(shape: [3, 3, 8, 16], using: &rng)
            XCTAssertEqual(Ops.conv2d(x, w, stride: 2).shape, [1, 2, 3, 16])
            let wt = Tensor.normal(shape: [3, 3, 5, 8], using: &rng)
            XCTAssertEqual(Ops.convTranspose2d(x, wt).shape, [1, 8, 12, 5])
            XCTAssertEqual(Ops.concatChannels(x, x).shape, [1, 4, 6, 16])
            let gn = Ops.groupNorm(
                x, gamma: Tensor(shape: [8], values: .init(repeating: 1, count: 8)), beta: Tensor(shape: [8]))
            // Each group of one channel is normalized: mean 0 over its 24 values.
            let mean0 = (0..<24).reduce(Float(0)) { $0 + gn.values[$1 * 8] } / 24
            XCTAssertEqual(mean0, 0, accuracy: 1e-5)
        }
    }
}
