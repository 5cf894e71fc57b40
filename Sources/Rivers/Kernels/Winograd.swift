// Winograd F(2x2, 3x3) for stride-1 3x3 convolutions with "same" padding (Lavin & Gray 2016):
// each 2x2 output tile takes 16 multiplies per (input, output) channel pair instead of 36.
// Used for the forward pass and, with the kernel flipped and transposed, the backward-input pass.
import Foundation

public enum Winograd {
    /// Output tiles per chunk: one thread transforms a chunk's inputs, runs its 16 GEMMs and
    /// transforms their products while they are in cache (16 x 192 x channels floats each).
    static let chunkTiles = 2 * Gemm.mc

    /// Floats from one transformed plane (xi) of a chunk to the next: T x C and one cache line
    /// more. Planes T * C apart are a multiple of 4 KiB apart for the U-Net's shapes (192 x 64
    /// floats is 48 KiB), so the 16 (or 36) stores of a tile would all fall in one set of the L1
    /// cache and evict each other; a line's offset puts each plane in its own set.
    @inline(__always)
    static func planeStride(_ T: Int, _ C: Int) -> Int { T * C + 16 }

    /// Whether a convolution takes this path: 3x3, stride 1, channels in whole SIMD8 vectors.
    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.inChannels % 8 == 0 && g.outChannels % 8 == 0
    }

    /// Floats of scratch: the transformed kernel packed for the GEMM, and per thread the
    /// transformed inputs and products of one chunk.
    public static func scratchCount(_ g: ConvGeometry, threads: Int = Parallel.threadCount) -> Int {
        16 * Gemm.packedSize(K: g.inChannels, N: g.outChannels) + 16 * g.inChannels * g.outChannels
            + threads * 16 * (planeStride(chunkTiles, g.inChannels) + planeStride(chunkTiles, g.outChannels))
    }

    /// dweight[3, 3, Cin, Cout] += the weight gradient of the 3x3 "same" convolution, through
    /// F(2x2, 3x3): the output is linear in U = G w G^T, Y = A^T (U . V) A per tile, so
    /// dL/dU[xi] = sum over tiles of V[xi] (A dY A^T)[xi], 16 GEMMs over the tiles of each chunk
    /// (per-thread sums added in thread order), and dweight += G^T dU G.
    static func weightGradient(
        _ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
        batch N: Int, height H: Int, width W: Int, inChannels Ci: Int, outChannels Co: Int, scratch: GemmScratch
    ) {
        let Th = (H + 1) / 2, Tw = (W + 1) / 2, tiles = N * Th * Tw
        let chunks = (tiles + chunkTiles - 1) / chunkTiles
        let threads = max(1, min(Parallel.threadCount, chunks))
        let perThread = 16 * (planeStride(chunkTiles, Ci) + planeStride(chunkTiles, Co)) + 16 * Ci * Co
        let base = scratch.winograd.elements(threads * perThread)
        while scratch.threadScratch.count < threads { scratch.threadScratch.append(GemmScratch()) }
        let threadScratch = scratch.threadScratch
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let v = base + thread * perThread, m = v + 16 * planeStride(chunkTiles, Ci)
            let dU = m + 16 * planeStride(chunkTiles, Co)
            dU.initialize(repeating: 0, count: 16 * Ci * Co)
            var chunk = thread
            while chunk < chunks {
                let t0 = chunk * chunkTiles, T = min(chunkTiles, tiles - t0)
                chunk += threads
                transformInputs(v, input, t0: t0, T: T, H: H, W: W, Th: Th, Tw: Tw, C: Ci)
                transformOutputGradients(m, dout, t0: t0, T: T, H: H, W: W, Th: Th, Tw: Tw, C: Co)
                for xi in 0..<16 {
                    Gemm.multiply(
                        M: Ci, N: Co, K: T, a: v + xi * planeStride(T, Ci), lda: Ci, transposeA: true,
                        b: m + xi * planeStride(T, Co), ldb: Co,
                        transposeB: false,
                        c: dU + xi * Ci * Co, ldc: Co, accumulate: true, scratch: threadScratch[thread], maxThreads: 1)
                }
            }
        }
        // dweight[ky, kx, ci, co] += (G^T dU G)[ky, kx], the threads' sums added in order;
        // G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1] on both sides.
        Parallel.forChunks(Ci, minimumChunk: 4) { r in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 28) { buffer in
                let u = buffer.baseAddress!, t = u + 16
                for ci in r {
                    for co in 0..<Co {
                        for xi in 0..<16 {
                            var sum: Float = 0
                            for thread in 0..<threads {
                                sum +=
                                    (base + thread * perThread + 16
                                    * (planeStride(chunkTiles, Ci) + planeStride(chunkTiles, Co)))[
                                        (xi * Ci + ci) * Co + co]
                            }
                            u[xi] = sum
                        }
                        for x in 0..<4 {
                            let (a, b, c, d) = (u[x], u[4 + x], u[8 + x], u[12 + x])
                            t[x] = a + 0.5 * (b + c); t[4 + x] = 0.5 * (b - c); t[8 + x] = 0.5 * (b + c) + d
                        }
                        for y in 0..<3 {
                            let (a, b, c, d) = (t[y * 4], t[y * 4 + 1], t[y * 4 + 2], t[y * 4 + 3])
                            dweight[((y * 3 + 0) * Ci + ci) * Co + co] += a + 0.5 * (b + c)
                            dweight[((y * 3 + 1) * Ci + ci) * Co + co] += 0.5 * (b - c)
                            dweight[((y * 3 + 2) * Ci + ci) * Co + co] += 0.5 * (b + c) + d
                        }
                    }
                }
            }
        }
    }

    /// M[xi, t, c] = (A dY A^T)[xi] for the 2x2 output-gradient tile of each of T tiles from t0
    /// (zeros past an odd edge), A = [1 0; 1 1; 1 -1; 0 -1].
    static func transformOutputGradients(
        _ m: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, t0: Int, T: Int, H: Int, W: Int, Th: Int,
        Tw: Int, C Co: Int
    ) {
        let zero = SIMD8<Float>()
        for t in 0..<T {
            let tile = t0 + t
            let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
            var c = 0
            while c < Co {
                func g(_ dy: Int, _ dx: Int) -> SIMD8<Float> {
                    let oy = 2 * ty + dy, ox = 2 * tx + dx
                    return oy < H && ox < W ? dout.simd8(at: ((n * H + oy) * W + ox) * Co + c) : zero
                }
                let (g00, g01, g10, g11) = (g(0, 0), g(0, 1), g(1, 0), g(1, 1))
                // A applied down the columns (2 rows -> 4), then along each row (2 -> 4).
                let rows = ((g00, g01), (g00 + g10, g01 + g11), (g00 - g10, g01 - g11), (zero - g10, zero - g11))
                let dst = m + t * Co + c, step = planeStride(T, Co)
                func put(_ y: Int, _ row: (SIMD8<Float>, SIMD8<Float>)) {
                    let (a, b) = row
                    dst.storeSIMD8(a, at: (y * 4 + 0) * step)
                    dst.storeSIMD8(a + b, at: (y * 4 + 1) * step)
                    dst.storeSIMD8(a - b, at: (y * 4 + 2) * step)
                    dst.storeSIMD8(zero - b, at: (y * 4 + 3) * step)
                }
                put(0, rows.0); put(1, rows.1); put(2, rows.2); put(3, rows.3)
                c += 8
            }
        }
    }

    /// U[xi, ci, co] = (G w G^T)[xi] for w = weight[., ., ci, co], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
    /// With `flipped`, the kernel of the backward-input pass: w'[ky, kx, co, ci] = w[2-ky, 2-kx, ci, co],
    /// so U[xi, co, ci] (its input channels are the convolution's outputs).
    static func transformKernel(
        _ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, Cin: Int, Cout: Int, flipped: Bool
    ) {
        let (inC, outC) = flipped ? (Cout, Cin) : (Cin, Cout)
        Parallel.forChunks(inC, minimumChunk: 8) { r in
            var w = [Float](repeating: 0, count: 9), t = [Float](repeating: 0, count: 12)
            for i in r {
                for o in 0..<outC {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            w[ky * 3 + kx] =
                                flipped
                                ? weight[((2 - ky) * 3 + (2 - kx)) * Cin * Cout + o * Cout + i]
                                : weight[(ky * 3 + kx) * Cin * Cout + i * Cout + o]
                        }
                    }
                    // t = G w (4x3), then (t G^T) (4x4).
                    for x in 0..<3 {
                        let (a, b, c) = (w[x], w[3 + x], w[6 + x])
                        t[x] = a; t[3 + x] = 0.5 * (a + b + c); t[6 + x] = 0.5 * (a - b + c); t[9 + x] = c
                    }
                    for y in 0..<4 {
                        let (a, b, c) = (t[y * 3], t[y * 3 + 1], t[y * 3 + 2])
                        let dst = u + ((y * 4) * inC + i) * outC + o, step = inC * outC
                        dst[0] = a; dst[step] = 0.5 * (a + b + c); dst[2 * step] = 0.5 * (a - b + c); dst[3 * step] = c
                    }
                }
            }
        }
    }

    /// out[N, H, W, Cout] (+)= the 3x3 "same" convolution of input[N, H, W, Cin] (+ bias), through
    /// F(2x2, 3x3): V = B^T d B per 4x4 input tile, 16 GEMMs V[xi] U[xi], Y = A^T M A per tile.
    /// With `flipped` it computes the backward-input pass of the convolution whose kernel is
    /// `weight` ([3, 3, Cout, Cin] read as [3, 3, Cin', Cout'] transposed and rotated).
    static func convolve(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, batch N: Int, height H: Int, width W: Int, inChannels Ci: Int,
        outChannels Co: Int,
        flipped: Bool, accumulate: Bool, scratch: GemmScratch
    ) {
        let Th = (H + 1) / 2, Tw = (W + 1) / 2, tiles = N * Th * Tw
        let chunks = (tiles + chunkTiles - 1) / chunkTiles
        let threads = max(1, min(Parallel.threadCount, chunks))
        let packedCount = Gemm.packedSize(K: Ci, N: Co)
        let perThread = 16 * (planeStride(chunkTiles, Ci) + planeStride(chunkTiles, Co))
        let u = scratch.winograd.elements(16 * packedCount + 16 * Ci * Co + threads * perThread)
        let raw = u + 16 * packedCount
        transformKernel(raw, weight, Cin: flipped ? Co : Ci, Cout: flipped ? Ci : Co, flipped: flipped)
        for xi in 0..<16 {
            Gemm.packB(u + xi * packedCount, raw + xi * Ci * Co, K: Ci, N: Co, ldb: Co, transposed: false)
        }
        while scratch.threadScratch.count < threads { scratch.threadScratch.append(GemmScratch()) }
        let threadScratch = scratch.threadScratch
        // Each thread takes chunks t, t + threads, ...: every tile is computed the same way
        // whatever the thread count.
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let v = raw + 16 * Ci * Co + thread * perThread, m = v + 16 * planeStride(chunkTiles, Ci)
            var chunk = thread
            while chunk < chunks {
                let t0 = chunk * chunkTiles, T = min(chunkTiles, tiles - t0)
                chunk += threads
                transformChunk(
                    v, m, u, packedCount, out, input, bias, t0: t0, T: T, N: N, H: H, W: W, Th: Th, Tw: Tw, Ci: Ci,
                    Co: Co,
                    accumulate: accumulate, scratch: threadScratch[thread])
            }
        }
    }

    /// V[xi, t, c] = (B^T d B)[xi] for the 4x4 input tile d of each of T tiles from t0 (zeros
    /// outside the image), B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
    static func transformInputs(
        _ v: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, t0: Int, T: Int, H: Int, W: Int, Th: Int,
        Tw: Int, C Ci: Int
    ) {
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 16) { buffer in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { sources in
                let d = buffer.baseAddress!, src = sources.baseAddress!
                for t in 0..<T {
                    let tile = t0 + t
                    let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
                    let inside = tileSources(
                        src, input, n: n, y0: 2 * ty - 1, x0: 2 * tx - 1, size: 4, H: H, W: W, C: Ci)
                    var c = 0
                    while c < Ci {
                        loadTile(d, src, count: 16, c: c, inside: inside, C: Ci)
                        // Columns: B^T applied down each column, then along each row.
                        for x in 0..<4 {
                            let (a, b, e, f) = (d[x], d[4 + x], d[8 + x], d[12 + x])
                            d[x] = a - e; d[4 + x] = b + e; d[8 + x] = e - b; d[12 + x] = b - f
                        }
                        for y in 0..<4 {
                            let (a, b, e, f) = (d[y * 4], d[y * 4 + 1], d[y * 4 + 2], d[y * 4 + 3])
                            let base = v + t * Ci + c, step = planeStride(T, Ci)
                            base.storeSIMD8(a - e, at: (y * 4 + 0) * step)
                            base.storeSIMD8(b + e, at: (y * 4 + 1) * step)
                            base.storeSIMD8(e - b, at: (y * 4 + 2) * step)
                            base.storeSIMD8(b - f, at: (y * 4 + 3) * step)
                        }
                        c += 8
                    }
                }
            }
        }
    }

    /// The `size` x `size` input pixels of a tile whose top left is (y0, x0) in image n, found once
    /// for all its channels: pointers into `input`, or to `zeroRow` for the padding. Returns whether
    /// every pixel is inside the image.
    @inline(__always)
    static func tileSources(
        _ src: UnsafeMutablePointer<UnsafePointer<Float>>, _ input: UnsafePointer<Float>, n: Int, y0: Int, x0: Int,
        size: Int, H: Int, W: Int, C: Int
    ) -> Bool {
        let zeros = UnsafePointer(zeroRow.pointer)
        var inside = true
        for y in 0..<size {
            let iy = y0 + y
            for x in 0..<size {
                let ix = x0 + x
                let valid = iy >= 0 && iy < H && ix >= 0 && ix < W
                inside = inside && valid
                src[y * size + x] = valid ? input + ((n * H + iy) * W + ix) * C : zeros
            }
        }
        return inside
    }

    /// d[i] = channels c ..< c + 8 of tile pixel i; the padding reads `zeroRow` (4096 zeros), and
    /// an input wider than that tests each pointer instead.
    @inline(__always)
    static func loadTile(
        _ d: UnsafeMutablePointer<SIMD8<Float>>, _ src: UnsafePointer<UnsafePointer<Float>>, count: Int, c: Int,
        inside: Bool, C: Int
    ) {
        if inside || C <= zeroRow.count {
            for i in 0..<count { d[i] = src[i].simd8(at: c) }
        } else {
            let zeros = UnsafePointer(zeroRow.pointer)
            for i in 0..<count { d[i] = src[i] == zeros ? SIMD8<Float>() : src[i].simd8(at: c) }
        }
    }

    /// One chunk of T tiles from tile t0: input transform into v, 16 GEMMs into m, output transform.
    static func transformChunk(
        _ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>,
        _ packedCount: Int,
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
        t0: Int, T: Int, N: Int, H: Int, W: Int, Th: Int, Tw: Int, Ci: Int, Co: Int, accumulate: Bool,
        scratch: GemmScratch
    ) {
        transformInputs(v, input, t0: t0, T: T, H: H, W: W, Th: Th, Tw: Tw, C: Ci)
        for xi in 0..<16 {
            Gemm.multiplySerial(
                M: T, N: Co, K: Ci, a: v + xi * planeStride(T, Ci), lda: Ci, packedB: u + xi * packedCount,
                c: m + xi * planeStride(T, Co),
                ldc: Co, scratch: scratch)
        }
        // Output transform: Y = A^T M A, A^T = [1 1 1 0; 0 1 -1 -1]; the bias added; tiles past
        // an odd edge keep only their inside outputs.
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 8) { buffer in
            let q = buffer.baseAddress!
            for t in 0..<T {
                let tile = t0 + t
                let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
                var c = 0
                while c < Co {
                    let base = m + t * Co + c, step = planeStride(T, Co)
                    // Rows first: q[y][0..1] = (M A)[y].
                    for y in 0..<4 {
                        let a = base.simd8(at: (y * 4) * step), b = base.simd8(at: (y * 4 + 1) * step)
                        let e = base.simd8(at: (y * 4 + 2) * step), f = base.simd8(at: (y * 4 + 3) * step)
                        q[y * 2] = a + b + e; q[y * 2 + 1] = b - e - f
                    }
                    let b0 = bias.map { $0.simd8(at: c) } ?? SIMD8<Float>()
                    for x in 0..<2 {
                        let ox = 2 * tx + x
                        if ox >= W { continue }
                        let top = out + ((n * H + 2 * ty) * W + ox) * Co + c
                        let y0 = q[x] + q[2 + x] + q[4 + x] + b0
                        top.storeSIMD8(accumulate ? top.simd8() + y0 : y0)
                        if 2 * ty + 1 < H {
                            let below = top + W * Co
                            let y1 = q[2 + x] - q[4 + x] - q[6 + x] + b0
                            below.storeSIMD8(accumulate ? below.simd8() + y1 : y1)
                        }
                    }
                    c += 8
                }
            }
        }
    }
}
