// Conv2D's weight gradient (dweight, dbias): Winograd, 1x1 pointwise, im2col or row by row, by shape.
import Foundation

extension Conv2D {
    /// dweight[k, k, Cin, Cout] += sum over pixels of input x dout, and dbias[Cout] += sum of
    /// dout. Computed transposed, dweight^T[co, (tap, ci)] = sum_p dout[p, co] input[p + tap, ci],
    /// so both operands are read in place: threads take contiguous output rows and their
    /// partial sums are added in thread order, so a given thread count always gives the same
    /// bits (a different count sums in a different order).
    public static func backwardWeights(
        _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
        _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry,
        scratch: ConvScratch
    ) {
        if let dbias {
            Elementwise.columnSums(
                dbias, dout, rows: g.batch * g.outHeight * g.outWidth, columns: g.outChannels,
                partial: scratch.padded.elements(16 * g.outChannels))
        }
        if Winograd.applies(g) {
            Winograd.weightGradient(
                dweight, input, dout, batch: g.batch, height: g.height, width: g.width,
                inChannels: g.inChannels, outChannels: g.outChannels, scratch: scratch)
        } else if g.kernel == 1 && g.stride == 1 && g.inChannels < 16 {
            pointwiseWeights(dweight, input, dout, g, scratch: scratch)
        } else if g.outWidth <= 48 && g.outChannels * g.kernel * g.kernel * g.inChannels * 4 > 512 * 1024 {
            // The row-by-row kernel adds one output row (Wo pixels of K) into per-thread partial
            // sums of the whole weight gradient. With short rows and a gradient larger than L2
            // (512 KiB) that traffic dominates: there, im2col in pixel chunks and one GEMM over
            // all pixels (measured before Winograd took the stride-1 3x3 shapes: 51% of peak
            // against 43-46% on 8x24 256->256; on long rows the copy costs more than it saves,
            // 33% against 74% on 64x192 320->64).
            backwardWeightsByColumns(dweight, input, dout, g, scratch: scratch)
        } else {
            backwardWeightsByRows(dweight, input, dout, g, scratch: scratch)
        }
    }

    /// The row-by-row weight gradient (see `backwardWeights`).
    static func backwardWeightsByRows(
        _ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
        _ g: ConvGeometry, scratch: ConvScratch
    ) {
        let (H, W, Cout, k, s) = (g.height, g.width, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        // The B loads read a micro-tile's width of channels at a time: pad the channels to a
        // multiple of it when needed.
        let kernel = Gemm.kernel, mr = kernel.mr, nr = kernel.nr
        let C = (g.inChannels + nr - 1) / nr * nr
        var src = input
        if C != g.inChannels {
            let p = scratch.padded.elements(g.batch * H * W * C)
            for px in 0..<(g.batch * H * W) {
                for c in 0..<C { p[px * C + c] = c < g.inChannels ? input[px * g.inChannels + c] : 0 }
            }
            src = UnsafePointer(p)
        }
        let N = k * k * C
        let rows = g.batch * Ho
        let threads = max(1, min(Parallel.threadCount, rows))
        let partial = scratch.partial.elements(threads * Cout * N)
        let strips = C / nr
        let aTables = scratch.aRows.elements(threads * mr), cTables = scratch.cRows.elements(threads * mr)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let part = partial + t * Cout * N
            part.initialize(repeating: 0, count: Cout * N)
            let aRows = aTables + t * mr, cRows = cTables + t * mr
            for row in (rows * t / threads)..<(rows * (t + 1) / threads) {
                let n = row / Ho, oy = row % Ho
                for ky in 0..<k {
                    let iy = oy * s + ky - g.padTop
                    if iy < 0 || iy >= H { continue }
                    for kx in 0..<k {
                        // Output columns whose input column ox * s + kx - padLeft is inside the image.
                        let lo = max(0, (g.padLeft - kx + s - 1) / s)
                        let hi = min(Wo, floorDiv(W - 1 + g.padLeft - kx, s) + 1)
                        if hi <= lo { continue }
                        let ix = lo * s + kx - g.padLeft
                        let a = dout + ((n * Ho + oy) * Wo + lo) * Cout
                        let b = src + ((n * H + iy) * W + ix) * C
                        let tapColumn = (ky * k + kx) * C
                        for strip in 0..<strips {
                            var co = 0
                            while co < Cout {
                                for r in 0..<mr {
                                    let c = min(co + r, Cout - 1)
                                    aRows[r] = a + c
                                    cRows[r] = co + r < Cout ? part + (co + r) * N : nil
                                }
                                kernel.run(
                                    hi - lo, aRows, Cout, b + strip * nr, s * C, cRows,
                                    tapColumn + strip * nr, nr, true, nil)
                                co += mr
                            }
                        }
                    }
                }
            }
        }
        // dweight[tap, ci, co] = sum_t partial_t[co, tap * C + ci], threads in order.
        let Cin = g.inChannels
        for tap in 0..<(k * k) {
            for ci in 0..<Cin {
                let d = dweight + (tap * Cin + ci) * Cout
                for co in 0..<Cout {
                    var v: Float = 0
                    for t in 0..<threads { v += partial[t * Cout * N + co * N + tap * C + ci] }
                    d[co] += v
                }
            }
        }
    }

    /// The weight gradient of a 1x1 convolution with fewer than 16 input channels (the stem's 3):
    /// dweight[ci, co] += sum_p input[p, ci] dout[p, co], as per-chunk float sums over fixed pixel
    /// chunks added in order in Double (deterministic), without the row kernel's copy of the
    /// input padded to 16 channels (61 MB at 200x600, batch 8).
    static func pointwiseWeights(
        _ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
        _ g: ConvGeometry, scratch: ConvScratch
    ) {
        let (Cin, Cout, P) = (g.inChannels, g.outChannels, g.batch * g.height * g.width)
        let chunks = max(1, min(64, P / 1024))
        let partial = scratch.partial.elements(chunks * Cin * Cout)
        Parallel.forEach(chunks) { k in
            let acc = partial + k * Cin * Cout
            acc.initialize(repeating: 0, count: Cin * Cout)
            for p in (P * k / chunks)..<(P * (k + 1) / chunks) {
                let x = input + p * Cin, d = dout + p * Cout
                for ci in 0..<Cin {
                    let v = x[ci], row = acc + ci * Cout
                    var co = 0
                    while co + 8 <= Cout {
                        row.storeSIMD8(row.simd8(at: co).addingProduct(SIMD8(repeating: v), d.simd8(at: co)), at: co)
                        co += 8
                    }
                    while co < Cout { row[co] += v * d[co]; co += 1 }
                }
            }
        }
        for i in 0..<(Cin * Cout) {
            var s = 0.0
            for k in 0..<chunks { s += Double(partial[k * Cin * Cout + i]) }
            dweight[i] += Float(s)
        }
    }

    /// Floats of one im2col chunk: at least a few K blocks of pixels, at most ~16 MiB.
    static let columnFloats = 1 << 22

    /// The weight gradient as dweight[(tap, ci), co] += col^T dout over chunks of output pixels,
    /// col[p, (tap, ci)] the input under tap at pixel p (0 in the padding): the GEMM keeps each
    /// output tile in registers over a K block of many pixels, where the row-by-row kernel would
    /// stream a weight-sized partial sum per image row. Deterministic per thread count.
    static func backwardWeightsByColumns(
        _ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
        _ g: ConvGeometry, scratch: ConvScratch
    ) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        let K9 = k * k * Cin, P = g.batch * Ho * Wo
        let chunk = max(Gemm.kc, columnFloats / K9 / Gemm.kc * Gemm.kc)
        let col = scratch.columns.elements(min(chunk, P) * K9)
        var p0 = 0
        while p0 < P {
            let p1 = min(P, p0 + chunk)
            Parallel.forChunks(p1 - p0, minimumChunk: 64) { r in
                for q in r {
                    let p = p0 + q
                    let ox = p % Wo, oy = (p / Wo) % Ho, n = p / (Wo * Ho)
                    let row = col + q * K9
                    for ky in 0..<k {
                        let iy = oy * s + ky - g.padTop
                        for kx in 0..<k {
                            let ix = ox * s + kx - g.padLeft
                            let dst = row + (ky * k + kx) * Cin
                            if iy < 0 || iy >= H || ix < 0 || ix >= W {
                                dst.update(repeating: 0, count: Cin)
                            } else {
                                dst.update(from: input + ((n * H + iy) * W + ix) * Cin, count: Cin)
                            }
                        }
                    }
                }
            }
            Gemm.multiply(
                M: K9, N: Cout, K: p1 - p0, a: col, lda: K9, transposeA: true, b: dout + p0 * Cout, ldb: Cout,
                transposeB: false,
                c: dweight, ldc: Cout, accumulate: true, scratch: scratch)
            p0 = p1
        }
    }
}
