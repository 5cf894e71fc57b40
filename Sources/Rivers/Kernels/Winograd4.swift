// Winograd F(4x4, 3x3) for the forward pass of stride-1 3x3 "same" convolutions in generation
// (Lavin & Gray 2016, interpolation points 0, 1, -1, 2, -2 and infinity): each 4x4 output tile
// takes 36 multiplies per (input, output) channel pair instead of 144 (direct) or 64 (F(2x2, 3x3),
// four 2x2 tiles). Its transforms carry constants up to 8 and 1/24, so its rounding error is
// larger than F(2x2)'s; training keeps F(2x2), whose gradients were measured against twins.
import Foundation

extension Winograd {
    /// Output tiles per chunk of F(4x4): a thread's 36 transformed inputs and products of 24 tiles
    /// stay in its caches (a sampling step at 200x600 measured the same, 0.91 to 0.94 s, with
    /// 24, 48 and 96 once the planes were a line apart; 24 is a whole number of micro-tiles of
    /// 6 and of 12 rows).
    static let chunkTiles4 = 24

    /// Floats of scratch of `convolve4`.
    public static func scratchCount4(_ g: ConvGeometry, threads: Int = Parallel.threadCount) -> Int {
        36 * Gemm.packedSize(K: g.inChannels, N: g.outChannels)
            + threads * 36 * (planeStride(chunkTiles4, g.inChannels) + planeStride(chunkTiles4, g.outChannels))
    }

    /// U[xi] = (G w G^T)[xi] (6x6) for w = weight[., ., ci, co], with
    /// G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
    /// written straight into the 36 GEMM panels: `packed + xi * packedCount` is U[xi] (K = Cin,
    /// N = Cout) in `Gemm.packB`'s layout, strips of `Gemm.nr` columns zero past Cout. Eight
    /// output channels at a time (Cout is a multiple of 8), in Double: 1/6, 1/12 and 1/24 are
    /// not exact in Float.
    static func transformKernel4(
        _ packed: UnsafeMutablePointer<Float>, _ packedCount: Int, _ weight: UnsafePointer<Float>, Cin: Int, Cout: Int
    ) {
        typealias D = SIMD8<Double>
        let nr = Gemm.nr, strips = (Cout + nr - 1) / nr
        if strips * nr != Cout {
            // The padding columns of the last strip.
            for xi in 0..<36 {
                let last = packed + xi * packedCount + (strips - 1) * Cin * nr
                for k in 0..<Cin { for j in (Cout - (strips - 1) * nr)..<nr { last[k * nr + j] = 0 } }
            }
        }
        Parallel.forChunks(Cin, minimumChunk: 8) { r in
            withUnsafeTemporaryAllocation(of: D.self, capacity: 9 + 18 + 6) { buffer in
                let w = buffer.baseAddress!, t = w + 9, g = t + 18
                /// g[0..<6] = G (a, b, c).
                @inline(__always) func apply(_ a: D, _ b: D, _ c: D) {
                    let sixth = D(repeating: 1.0 / 6), twelfth = D(repeating: 1.0 / 12)
                    let twentyFourth = D(repeating: 1.0 / 24)
                    g[0] = a * 0.25; g[1] = -(a + b + c) * sixth; g[2] = -(a - b + c) * sixth
                    g[3] = a * twentyFourth + b * twelfth + c * sixth; g[4] = a * twentyFourth - b * twelfth + c * sixth
                    g[5] = c
                }
                for i in r {
                    var o = 0
                    while o < Cout {
                        for k in 0..<9 { w[k] = D(weight.simd8(at: k * Cin * Cout + i * Cout + o)) }
                        for x in 0..<3 {
                            apply(w[x], w[3 + x], w[6 + x])
                            for y in 0..<6 { t[y * 3 + x] = g[y] }
                        }
                        let dst = packed + (o / nr) * Cin * nr + i * nr + o % nr
                        for y in 0..<6 {
                            apply(t[y * 3], t[y * 3 + 1], t[y * 3 + 2])
                            for x in 0..<6 { (dst + (y * 6 + x) * packedCount).storeSIMD8(SIMD8<Float>(g[x])) }
                        }
                        o += 8
                    }
                }
            }
        }
    }

    /// out[N, H, W, Cout] (+)= the 3x3 "same" convolution of input[N, H, W, Cin] (+ bias) through
    /// F(4x4, 3x3): V = B^T d B per 6x6 input tile, 36 GEMMs V[xi] U[xi], Y = A^T M A per tile.
    static func convolve4(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, batch N: Int, height H: Int, width W: Int, inChannels Ci: Int,
        outChannels Co: Int, accumulate: Bool, scratch: GemmScratch
    ) {
        let Th = (H + 3) / 4, Tw = (W + 3) / 4, tiles = N * Th * Tw
        let chunks = (tiles + chunkTiles4 - 1) / chunkTiles4
        let threads = max(1, min(Parallel.threadCount, chunks))
        let packedCount = Gemm.packedSize(K: Ci, N: Co)
        let perThread = 36 * (planeStride(chunkTiles4, Ci) + planeStride(chunkTiles4, Co))
        let u = scratch.winograd.elements(36 * packedCount + threads * perThread)
        transformKernel4(u, packedCount, weight, Cin: Ci, Cout: Co)
        while scratch.threadScratch.count < threads { scratch.threadScratch.append(GemmScratch()) }
        let threadScratch = scratch.threadScratch
        // Chunks t, t + threads, ... per thread: every tile is computed the same way whatever the
        // thread count.
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let v = u + 36 * packedCount + thread * perThread, m = v + 36 * planeStride(chunkTiles4, Ci)
            var chunk = thread
            while chunk < chunks {
                let t0 = chunk * chunkTiles4, T = min(chunkTiles4, tiles - t0)
                chunk += threads
                transformInputs4(v, input, t0: t0, T: T, H: H, W: W, Th: Th, Tw: Tw, C: Ci)
                for xi in 0..<36 {
                    Gemm.multiplySerial(
                        M: T, N: Co, K: Ci, a: v + xi * planeStride(T, Ci), lda: Ci, packedB: u + xi * packedCount,
                        c: m + xi * planeStride(T, Co), ldc: Co, scratch: threadScratch[thread])
                }
                transformOutputs4(
                    out, m, bias, t0: t0, T: T, H: H, W: W, Th: Th, Tw: Tw, C: Co, accumulate: accumulate)
            }
        }
    }

    /// B^T d for one column (or row) of 6 values:
    /// B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
    @inline(__always)
    static func inputColumn(
        _ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>, _ d4: SIMD8<Float>,
        _ d5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let four = SIMD8<Float>(repeating: 4), five = SIMD8<Float>(repeating: 5), two = SIMD8<Float>(repeating: 2)
        let a = d4 - d2, b = d3 - d1
        return (
            four * d0 - five * d2 + d4,
            (d3 + d4) - four * (d1 + d2),
            (d4 - d3) + four * (d1 - d2),
            a + two * b,
            a - two * b,
            four * d1 - five * d3 + d5
        )
    }

    /// V[xi, t, c] = (B^T d B)[xi] for the 6x6 input tile d of each of T tiles from t0 (zeros
    /// outside the image).
    static func transformInputs4(
        _ v: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, t0: Int, T: Int, H: Int, W: Int, Th: Int,
        Tw: Int, C Ci: Int
    ) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 36) { buffer in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 36) { sources in
                let d = buffer.baseAddress!, src = sources.baseAddress!
                for t in 0..<T {
                    let tile = t0 + t
                    let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
                    let inside = tileSources(
                        src, input, n: n, y0: 4 * ty - 1, x0: 4 * tx - 1, size: 6, H: H, W: W, C: Ci)
                    var c = 0
                    while c < Ci {
                        loadTile(d, src, count: 36, c: c, inside: inside, C: Ci)
                        // B^T down each column, then along each row.
                        for x in 0..<6 {
                            let r = inputColumn(d[x], d[6 + x], d[12 + x], d[18 + x], d[24 + x], d[30 + x])
                            d[x] = r.0; d[6 + x] = r.1; d[12 + x] = r.2; d[18 + x] = r.3; d[24 + x] = r.4
                            d[30 + x] = r.5
                        }
                        let base = v + t * Ci + c, step = planeStride(T, Ci)
                        for y in 0..<6 {
                            let r = inputColumn(
                                d[y * 6], d[y * 6 + 1], d[y * 6 + 2], d[y * 6 + 3], d[y * 6 + 4], d[y * 6 + 5])
                            base.storeSIMD8(r.0, at: (y * 6 + 0) * step)
                            base.storeSIMD8(r.1, at: (y * 6 + 1) * step)
                            base.storeSIMD8(r.2, at: (y * 6 + 2) * step)
                            base.storeSIMD8(r.3, at: (y * 6 + 3) * step)
                            base.storeSIMD8(r.4, at: (y * 6 + 4) * step)
                            base.storeSIMD8(r.5, at: (y * 6 + 5) * step)
                        }
                        c += 8
                    }
                }
            }
        }
    }

    /// A^T m for 6 values: A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
    @inline(__always)
    static func outputColumn(
        _ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>, _ m4: SIMD8<Float>,
        _ m5: SIMD8<Float>
    ) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        let two = SIMD8<Float>(repeating: 2), four = SIMD8<Float>(repeating: 4), eight = SIMD8<Float>(repeating: 8)
        return (m0 + s12 + s34, d12 + two * d34, s12 + four * s34, d12 + eight * d34 + m5)
    }

    /// out (+)= Y = A^T M A (+ bias) for each of T tiles from t0; outputs past the edge dropped.
    static func transformOutputs4(
        _ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, t0: Int, T: Int,
        H: Int, W: Int, Th: Int, Tw: Int, C Co: Int, accumulate: Bool
    ) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 24) { buffer in
            let q = buffer.baseAddress!
            for t in 0..<T {
                let tile = t0 + t
                let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
                var c = 0
                while c < Co {
                    let base = m + t * Co + c, step = planeStride(T, Co)
                    // Rows first: q[y][0..<4] = (M A)[y], 6 rows.
                    for y in 0..<6 {
                        let r = outputColumn(
                            base.simd8(at: (y * 6) * step), base.simd8(at: (y * 6 + 1) * step),
                            base.simd8(at: (y * 6 + 2) * step), base.simd8(at: (y * 6 + 3) * step),
                            base.simd8(at: (y * 6 + 4) * step), base.simd8(at: (y * 6 + 5) * step))
                        q[y * 4] = r.0; q[y * 4 + 1] = r.1; q[y * 4 + 2] = r.2; q[y * 4 + 3] = r.3
                    }
                    let b0 = bias.map { $0.simd8(at: c) } ?? SIMD8<Float>()
                    for x in 0..<4 {
                        let ox = 4 * tx + x
                        if ox >= W { continue }
                        let col = outputColumn(q[x], q[4 + x], q[8 + x], q[12 + x], q[16 + x], q[20 + x])
                        for y in 0..<min(4, H - 4 * ty) {
                            let dst = out + ((n * H + 4 * ty + y) * W + ox) * Co + c
                            let value = (y == 0 ? col.0 : y == 1 ? col.1 : y == 2 ? col.2 : col.3) + b0
                            dst.storeSIMD8(accumulate ? dst.simd8() + value : value)
                        }
                    }
                    c += 8
                }
            }
        }
    }
}
