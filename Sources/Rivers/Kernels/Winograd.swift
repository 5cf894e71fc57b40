// Winograd F(2x2, 3x3) for stride-1 3x3 convolutions with "same" padding (Lavin & Gray 2016):
// each 2x2 output tile takes 16 multiplies per (input, output) channel pair instead of 36.
// Used for the forward pass and, with the kernel flipped and transposed, the backward-input pass.
import Foundation

public enum Winograd {
    /// Output tiles per chunk: one thread transforms a chunk's inputs, runs its 16 GEMMs and
    /// transforms their products while they are in cache (16 x 192 x channels floats each).
    static let chunkTiles = 2 * Gemm.mc

    /// Whether a convolution takes this path: 3x3, stride 1, channels in whole SIMD8 vectors.
    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.inChannels % 8 == 0 && g.outChannels % 8 == 0
    }

    /// Floats of scratch: the transformed kernel packed for the GEMM, and per thread the
    /// transformed inputs and products of one chunk.
    public static func scratchCount(_ g: ConvGeometry, threads: Int = Parallel.threadCount) -> Int {
        16 * Gemm.packedSize(K: g.inChannels, N: g.outChannels) + 16 * g.inChannels * g.outChannels
            + threads * 16 * chunkTiles * (g.inChannels + g.outChannels)
    }

    /// U[xi, ci, co] = (G w G^T)[xi] for w = weight[., ., ci, co], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1].
    /// With `flipped`, the kernel of the backward-input pass: w'[ky, kx, co, ci] = w[2-ky, 2-kx, ci, co],
    /// so U[xi, co, ci] (its input channels are the convolution's outputs).
    static func transformKernel(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, Cin: Int, Cout: Int, flipped: Bool) {
        let (inC, outC) = flipped ? (Cout, Cin) : (Cin, Cout)
        Parallel.forChunks(inC, minimumChunk: 8) { r in
            var w = [Float](repeating: 0, count: 9), t = [Float](repeating: 0, count: 12)
            for i in r {
                for o in 0..<outC {
                    for ky in 0..<3 { for kx in 0..<3 {
                        w[ky * 3 + kx] = flipped ? weight[((2 - ky) * 3 + (2 - kx)) * Cin * Cout + o * Cout + i]
                                                 : weight[(ky * 3 + kx) * Cin * Cout + i * Cout + o]
                    } }
                    // t = G w (4x3), then (t G^T) (4x4).
                    for x in 0..<3 {
                        let (a, b, c) = (w[x], w[3 + x], w[6 + x])
                        t[x] = a; t[3 + x] = 0.5 * (a + b + c); t[6 + x] = 0.5 * (a - b + c); t[9 + x] = c
                    }
                    for y in 0..<4 {
                        let (a, b, c) = (t[y * 3], t[y * 3 + 1], t[y * 3 + 2])
                        let row = [a, 0.5 * (a + b + c), 0.5 * (a - b + c), c]
                        for x in 0..<4 { u[((y * 4 + x) * inC + i) * outC + o] = row[x] }
                    }
                }
            }
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inline(__always) static func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

    /// out[N, H, W, Cout] (+)= the 3x3 "same" convolution of input[N, H, W, Cin] (+ bias), through
    /// F(2x2, 3x3): V = B^T d B per 4x4 input tile, 16 GEMMs V[xi] U[xi], Y = A^T M A per tile.
    /// With `flipped` it computes the backward-input pass of the convolution whose kernel is
    /// `weight` ([3, 3, Cout, Cin] read as [3, 3, Cin', Cout'] transposed and rotated).
    static func convolve(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                         _ bias: UnsafePointer<Float>?, batch N: Int, height H: Int, width W: Int, inChannels Ci: Int, outChannels Co: Int,
                         flipped: Bool, accumulate: Bool, scratch: GemmScratch) {
        let Th = (H + 1) / 2, Tw = (W + 1) / 2, tiles = N * Th * Tw
        let chunks = (tiles + chunkTiles - 1) / chunkTiles
        let threads = max(1, min(Parallel.threadCount, chunks))
        let packedCount = Gemm.packedSize(K: Ci, N: Co)
        let perThread = 16 * chunkTiles * (Ci + Co)
        let u = scratch.winograd.elements(16 * packedCount + 16 * Ci * Co + threads * perThread)
        let raw = u + 16 * packedCount
        transformKernel(raw, weight, Cin: flipped ? Co : Ci, Cout: flipped ? Ci : Co, flipped: flipped)
        for xi in 0..<16 { Gemm.packB(u + xi * packedCount, raw + xi * Ci * Co, K: Ci, N: Co, ldb: Co, transposed: false) }
        while scratch.threadScratch.count < threads { scratch.threadScratch.append(GemmScratch()) }
        let threadScratch = scratch.threadScratch
        // Each thread takes chunks t, t + threads, ...: every tile is computed the same way
        // whatever the thread count.
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let v = raw + 16 * Ci * Co + thread * perThread, m = v + 16 * chunkTiles * Ci
            var chunk = thread
            while chunk < chunks {
                let t0 = chunk * chunkTiles, T = min(chunkTiles, tiles - t0)
                chunk += threads
                transformChunk(v, m, u, packedCount, out, input, bias, t0: t0, T: T, N: N, H: H, W: W, Th: Th, Tw: Tw, Ci: Ci, Co: Co,
                               accumulate: accumulate, scratch: threadScratch[thread])
            }
        }
    }

    /// One chunk of T tiles from tile t0: input transform into v, 16 GEMMs into m, output transform.
    static func transformChunk(_ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ packedCount: Int,
                               _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                               t0: Int, T: Int, N: Int, H: Int, W: Int, Th: Int, Tw: Int, Ci: Int, Co: Int, accumulate: Bool, scratch: GemmScratch) {
    // Input transform: V[xi, t, c] = (B^T d B)[xi], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 16) { buffer in
            let d = buffer.baseAddress!, zero = SIMD8<Float>()
            for t in 0..<T {
                let tile = t0 + t
                let tx = tile % Tw, ty = (tile / Tw) % Th, n = tile / (Tw * Th)
                var c = 0
                while c < Ci {
                    for y in 0..<4 {
                        let iy = 2 * ty - 1 + y
                        for x in 0..<4 {
                            let ix = 2 * tx - 1 + x
                            d[y * 4 + x] = iy >= 0 && iy < H && ix >= 0 && ix < W ? load(input + ((n * H + iy) * W + ix) * Ci + c) : zero
                        }
                    }
                    // Columns: B^T applied down each column, then along each row.
                    for x in 0..<4 {
                        let (a, b, e, f) = (d[x], d[4 + x], d[8 + x], d[12 + x])
                        d[x] = a - e; d[4 + x] = b + e; d[8 + x] = e - b; d[12 + x] = b - f
                    }
                    for y in 0..<4 {
                        let (a, b, e, f) = (d[y * 4], d[y * 4 + 1], d[y * 4 + 2], d[y * 4 + 3])
                        let base = v + t * Ci + c
                        store(base + (y * 4 + 0) * T * Ci, a - e)
                        store(base + (y * 4 + 1) * T * Ci, b + e)
                        store(base + (y * 4 + 2) * T * Ci, e - b)
                        store(base + (y * 4 + 3) * T * Ci, b - f)
                    }
                    c += 8
                }
            }
        }
        for xi in 0..<16 {
            Gemm.multiplySerial(M: T, N: Co, K: Ci, a: v + xi * T * Ci, lda: Ci, packedB: u + xi * packedCount, c: m + xi * T * Co, ldc: Co, scratch: scratch)
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
                    let base = m + t * Co + c
                    // Rows first: q[y][0..1] = (M A)[y].
                    for y in 0..<4 {
                        let a = load(base + (y * 4) * T * Co), b = load(base + (y * 4 + 1) * T * Co)
                        let e = load(base + (y * 4 + 2) * T * Co), f = load(base + (y * 4 + 3) * T * Co)
                        q[y * 2] = a + b + e; q[y * 2 + 1] = b - e - f
                    }
                    let b0 = bias.map { load($0 + c) } ?? SIMD8<Float>()
                    for x in 0..<2 {
                        let ox = 2 * tx + x
                        if ox >= W { continue }
                        let top = out + ((n * H + 2 * ty) * W + ox) * Co + c
                        let y0 = q[x] + q[2 + x] + q[4 + x] + b0
                        store(top, accumulate ? load(top) + y0 : y0)
                        if 2 * ty + 1 < H {
                            let below = top + W * Co
                            let y1 = q[2 + x] - q[4 + x] - q[6 + x] + b0
                            store(below, accumulate ? load(below) + y1 : y1)
                        }
                    }
                    c += 8
                }
            }
        }
    }
}
