// 2-D convolution, NHWC, weights HWIO, TensorFlow "same" padding: forward, backward-input and
// backward-weights as implicit GEMMs on the shared micro-kernel, each with a naive twin.
import Foundation

/// The shape of one convolution and its TensorFlow "same" padding:
/// output = ceil(input / stride); total padding = max((output - 1) * stride + k - input, 0),
/// the smaller half before (for 3x3 stride 2 on an even size: 0 before, 1 after).
public struct ConvGeometry: Equatable, Sendable {
    public let batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int
    public let kernel: Int, stride: Int
    public let outHeight: Int, outWidth: Int
    public let padTop: Int, padLeft: Int

    public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1) {
        precondition(batch > 0 && height > 0 && width > 0 && inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0,
                     "convolution dimensions must be positive")
        self.batch = batch; self.height = height; self.width = width
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride
        outHeight = (height + stride - 1) / stride
        outWidth = (width + stride - 1) / stride
        padTop = max((outHeight - 1) * stride + kernel - height, 0) / 2
        padLeft = max((outWidth - 1) * stride + kernel - width, 0) / 2
    }

    public var inputCount: Int { batch * height * width * inChannels }
    public var outputCount: Int { batch * outHeight * outWidth * outChannels }
    public var weightCount: Int { kernel * kernel * inChannels * outChannels }
    /// Multiply-adds x 2 of one forward pass.
    public var flops: Double { 2 * Double(batch * outHeight * outWidth) * Double(kernel * kernel * inChannels * outChannels) }
    /// `NxHxWxCin->Cout`, the benchmark's shape label.
    public var label: String { "\(batch)x\(height)x\(width)x\(inChannels)->\(outChannels)" }
}

/// Division rounding toward minus infinity (Swift's / truncates toward zero).
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// Zeros for the A rows of taps that fall in the padding.
let zeroRow: FloatBuffer = FloatBuffer(count: 4096)

/// The convolutions reuse the GEMM's scratch (packed weights, tables, partial sums).
public typealias ConvScratch = GemmScratch

public enum Conv2D {
    /// Channels are cut into `chunkCount` pieces of `chunkSize` (the last may be shorter), none
    /// longer than the GEMM's K block; each piece of each tap is one K segment.
    static func chunkCount(_ channels: Int) -> Int { (channels + Gemm.kc - 1) / Gemm.kc }
    static func chunkSize(_ channels: Int) -> Int { (channels + chunkCount(channels) - 1) / chunkCount(channels) }

    /// out[N, Ho, Wo, Cout] = conv(input[N, H, W, Cin], weight[k, k, Cin, Cout]) + bias[Cout].
    /// With `accumulate`, the result is added to `out` (bias still added once).
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                               _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch, accumulate: Bool = false) {
        if Winograd.applies(g) {
            Winograd.convolve(out, input, weight, bias, batch: g.batch, height: g.height, width: g.width, inChannels: g.inChannels,
                              outChannels: g.outChannels, flipped: false, accumulate: accumulate, scratch: scratch)
            return
        }
        direct(out, input, weight, bias, g, scratch: scratch, accumulate: accumulate)
    }

    /// `forward` as an implicit GEMM over the taps: every convolution Winograd does not take.
    static func direct(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                       _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch, accumulate: Bool = false) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        let K = k * k * Cin
        let packed = scratch.packed.elements(Gemm.packedSize(K: K, N: Cout))
        Gemm.packB(packed, weight, K: K, N: Cout, ldb: Cout, transposed: false)
        scratch.segments.removeAll(keepingCapacity: true)
        scratch.segmentTaps.removeAll(keepingCapacity: true)
        for ky in 0..<k { for kx in 0..<k {
            appendSegments(scratch, kBase: (ky * k + kx) * Cin, channels: Cin, dy: ky - g.padTop, dx: kx - g.padLeft)
        } }
        implicitGemm(batch: g.batch, gridHeight: Ho, gridWidth: Wo, step: s, source: input, sourceHeight: H, sourceWidth: W,
                     sourceChannels: Cin, N: Cout, rowC: { out + $0 * Cout }, packed: packed, K: K, bias: bias,
                     accumulate: accumulate, scratch: scratch)
    }

    /// Appends one tap's K segments (its channels cut into chunks no longer than the K block),
    /// whose B rows start at `kBase` and whose A rows are read at source offset (dy, dx).
    static func appendSegments(_ scratch: GemmScratch, kBase: Int, channels: Int, dy: Int, dx: Int) {
        let size = chunkSize(channels)
        for c0 in stride(from: 0, to: channels, by: size) {
            scratch.segments.append((kBase + c0, min(size, channels - c0)))
            scratch.segmentTaps.append((dy, dx, c0))
        }
    }

    /// The implicit GEMM shared by `forward` and the stride phases of `backwardInput`. Output
    /// row m is pixel (n, y, x) of a batch of gridHeight x gridWidth grids; for each segment in
    /// `scratch`, its A row is source pixel (y * step + dy, x * step + dx) from channel c0 on,
    /// or zeros where that pixel falls outside the source (the padding).
    static func implicitGemm(batch: Int, gridHeight Hg: Int, gridWidth Wg: Int, step: Int,
                             source: UnsafePointer<Float>, sourceHeight Hs: Int, sourceWidth Ws: Int, sourceChannels Cs: Int,
                             N: Int, rowC: (Int) -> UnsafeMutablePointer<Float>?, packed: UnsafePointer<Float>, K: Int,
                             bias: UnsafePointer<Float>?, accumulate: Bool, scratch: GemmScratch) {
        let segs = scratch.segments, segTap = scratch.segmentTaps
        let zeros = UnsafePointer(zeroRow.pointer)
        Gemm.drive(M: batch * Hg * Wg, N: N, segments: segs, aStep: 1, fillA: { m0, rows, table, stride in
            for i in 0..<stride {
                let m = m0 + min(i, rows - 1)
                let x = m % Wg, y = (m / Wg) % Hg, n = m / (Wg * Hg)
                for si in 0..<segTap.count {
                    let t = segTap[si]
                    let sy = y * step + t.dy, sx = x * step + t.dx
                    table[si * stride + i] = sy >= 0 && sy < Hs && sx >= 0 && sx < Ws ? source + ((n * Hs + sy) * Ws + sx) * Cs + t.c0 : zeros
                }
            }
        }, rowC: rowC, packedB: packed, K: K, bias: bias, accumulate: accumulate, scratch: scratch)
    }

    /// dinput[N, H, W, Cin] += the gradient of `forward` for dout[N, Ho, Wo, Cout].
    public static func backwardInput(_ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                     _ g: ConvGeometry, scratch: ConvScratch) {
        if Winograd.applies(g) {
            Winograd.convolve(dinput, dout, weight, nil, batch: g.batch, height: g.height, width: g.width, inChannels: g.outChannels,
                              outChannels: g.inChannels, flipped: true, accumulate: true, scratch: scratch)
            return
        }
        transposed(dinput, dout, weight, g, bias: nil, scratch: scratch, accumulate: true)
    }

    /// The transpose of `forward`: dinput[N, H, W, Cin] (+)= convT(dout[N, Ho, Wo, Cout]) (+ bias[Cin]),
    /// computed per stride phase (iy mod s, ix mod s), each a small convolution with only the
    /// taps that reach that phase. Without `accumulate` it overwrites: the forward pass of a
    /// transposed convolution.
    static func transposed(_ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ g: ConvGeometry, bias: UnsafePointer<Float>?, scratch: ConvScratch, accumulate: Bool) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        for py in 0..<s {
            for px in 0..<s {
                let Hc = (H - py + s - 1) / s, Wc = (W - px + s - 1) / s
                if Hc <= 0 || Wc <= 0 { continue }
                // Taps that reach this phase, and the dout offset each reads: oy = i + dy.
                scratch.taps.removeAll(keepingCapacity: true)
                for ky in 0..<k where (py + g.padTop - ky) % s == 0 {
                    for kx in 0..<k where (px + g.padLeft - kx) % s == 0 {
                        scratch.taps.append((ky, kx, (py + g.padTop - ky) / s, (px + g.padLeft - kx) / s))
                    }
                }
                let taps = scratch.taps
                let K = taps.count * Cout
                let packed = scratch.packed.elements(Gemm.packedSize(K: max(K, 1), N: Cin))
                scratch.segments.removeAll(keepingCapacity: true)
                scratch.segmentTaps.removeAll(keepingCapacity: true)
                for t in 0..<taps.count {
                    let tap = taps[t]
                    // B rows for this tap: B[co, ci] = W[ky, kx, ci, co], the tap's Cin x Cout block transposed.
                    Gemm.packB(packed, weight + (tap.ky * k + tap.kx) * Cin * Cout, K: Cout, N: Cin, ldb: Cout,
                               transposed: true, kOffset: t * Cout, kTotal: K)
                    appendSegments(scratch, kBase: t * Cout, channels: Cout, dy: tap.dy, dx: tap.dx)
                }
                implicitGemm(batch: g.batch, gridHeight: Hc, gridWidth: Wc, step: 1, source: dout, sourceHeight: Ho, sourceWidth: Wo,
                             sourceChannels: Cout, N: Cin, rowC: { m in
                                 let j = m % Wc, ii = (m / Wc) % Hc, n = m / (Wc * Hc)
                                 return dinput + ((n * H + ii * s + py) * W + j * s + px) * Cin
                             }, packed: packed, K: K, bias: bias, accumulate: accumulate, scratch: scratch)
            }
        }
    }

    /// dweight[k, k, Cin, Cout] += sum over pixels of input x dout, and dbias[Cout] += sum of
    /// dout. Computed transposed, dweight^T[co, (tap, ci)] = sum_p dout[p, co] input[p + tap, ci],
    /// so both operands are read in place: threads take contiguous output rows and their
    /// partial sums are added in thread order, so a given thread count always gives the same
    /// bits (a different count sums in a different order).
    public static func backwardWeights(_ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                                       _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry,
                                       scratch: ConvScratch) {
        if let dbias {
            Elementwise.columnSums(dbias, dout, rows: g.batch * g.outHeight * g.outWidth, columns: g.outChannels,
                                   partial: scratch.padded.elements(16 * g.outChannels))
        }
        if Winograd.applies(g) {
            Winograd.weightGradient(dweight, input, dout, batch: g.batch, height: g.height, width: g.width,
                                    inChannels: g.inChannels, outChannels: g.outChannels, scratch: scratch)
        } else if g.kernel == 1 && g.stride == 1 && g.inChannels < Gemm.nr {
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
    static func backwardWeightsByRows(_ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                      _ g: ConvGeometry, scratch: ConvScratch) {
        let (H, W, Cout, k, s) = (g.height, g.width, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        // The B loads read 16 channels at a time: pad the channels to a multiple of 16 when needed.
        let C = (g.inChannels + Gemm.nr - 1) / Gemm.nr * Gemm.nr
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
        let strips = C / Gemm.nr
        let aTables = scratch.aRows.elements(threads * Gemm.mr), cTables = scratch.cRows.elements(threads * Gemm.mr)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let part = partial + t * Cout * N
            part.initialize(repeating: 0, count: Cout * N)
            let aRows = aTables + t * Gemm.mr, cRows = cTables + t * Gemm.mr
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
                                for r in 0..<Gemm.mr {
                                    let c = min(co + r, Cout - 1)
                                    aRows[r] = a + c
                                    cRows[r] = co + r < Cout ? part + (co + r) * N : nil
                                }
                                Gemm.tile(hi - lo, aRows, Cout, b + strip * Gemm.nr, s * C, cRows, tapColumn + strip * Gemm.nr, Gemm.nr, true, nil)
                                co += Gemm.mr
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
    static func pointwiseWeights(_ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                 _ g: ConvGeometry, scratch: ConvScratch) {
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
                        let r = UnsafeMutableRawPointer(row + co)
                        r.storeBytes(of: r.loadUnaligned(as: SIMD8<Float>.self).addingProduct(SIMD8(repeating: v), UnsafeRawPointer(d + co).loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
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
    static func backwardWeightsByColumns(_ dweight: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>,
                                         _ g: ConvGeometry, scratch: ConvScratch) {
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
                            if iy < 0 || iy >= H || ix < 0 || ix >= W { dst.update(repeating: 0, count: Cin) }
                            else { dst.update(from: input + ((n * H + iy) * W + ix) * Cin, count: Cin) }
                        }
                    }
                }
            }
            Gemm.multiply(M: K9, N: Cout, K: p1 - p0, a: col, lda: K9, transposeA: true, b: dout + p0 * Cout, ldb: Cout, transposeB: false,
                          c: dweight, ldc: Cout, accumulate: true, scratch: scratch)
            p0 = p1
        }
    }

    // MARK: naive twins: direct loops in Double over the definition.

    public static func forwardNaive(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                    _ bias: UnsafePointer<Float>?, _ g: ConvGeometry) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for co in 0..<Cout {
            var acc = Double(bias?[co] ?? 0)
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                for ci in 0..<Cin {
                    acc += Double(input[((n * H + iy) * W + ix) * Cin + ci]) * Double(weight[((ky * k + kx) * Cin + ci) * Cout + co])
                }
            } }
            out[((n * g.outHeight + oy) * g.outWidth + ox) * Cout + co] = Float(acc)
        } } } }
    }

    public static func backwardInputNaive(_ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ g: ConvGeometry) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        var acc = [Double](repeating: 0, count: g.inputCount)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for ky in 0..<k { for kx in 0..<k {
            let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
            if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
            for ci in 0..<Cin { for co in 0..<Cout {
                acc[((n * H + iy) * W + ix) * Cin + ci] += Double(dout[((n * g.outHeight + oy) * g.outWidth + ox) * Cout + co]) * Double(weight[((ky * k + kx) * Cin + ci) * Cout + co])
            } }
        } } } } }
        for i in 0..<acc.count { dinput[i] = Float(acc[i]) }
    }

    public static func backwardWeightsNaive(_ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                                            _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        var acc = [Double](repeating: 0, count: g.weightCount)
        var bacc = [Double](repeating: 0, count: Cout)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
            let o = ((n * g.outHeight + oy) * g.outWidth + ox) * Cout
            for co in 0..<Cout { bacc[co] += Double(dout[o + co]) }
            for ky in 0..<k { for kx in 0..<k {
                let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                for ci in 0..<Cin { for co in 0..<Cout {
                    acc[((ky * k + kx) * Cin + ci) * Cout + co] += Double(input[((n * H + iy) * W + ix) * Cin + ci]) * Double(dout[o + co])
                } }
            } }
        } } }
        for i in 0..<acc.count { dweight[i] = Float(acc[i]) }
        if let dbias { for co in 0..<Cout { dbias[co] = Float(bacc[co]) } }
    }
}

/// The transposed convolution of Keras' Conv2DTranspose(stride 2, "same"): input [N, H, W, Cin],
/// output exactly [N, 2H, 2W, Cout], kernel [3, 3, Cout, Cin] (Keras' layout). It is the
/// backward-input pass of the stride-2 convolution that maps 2H x 2W x Cout to H x W x Cin,
/// so each of its passes is one of that convolution's.
public enum ConvTranspose2D {
    /// The convolution this is the transpose of.
    public static func geometry(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int = 3, stride: Int = 2) -> ConvGeometry {
        let g = ConvGeometry(batch: batch, height: height * stride, width: width * stride, inChannels: outChannels, outChannels: inChannels, kernel: kernel, stride: stride)
        precondition(g.outHeight == height && g.outWidth == width)
        return g
    }

    /// out[N, 2H, 2W, Cout] = convT(input[N, H, W, Cin], weight[3, 3, Cout, Cin]) + bias[Cout].
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                               _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch) {
        Conv2D.transposed(out, input, weight, g, bias: bias, scratch: scratch, accumulate: false)
    }

    /// dinput[N, H, W, Cin] += the stride-2 convolution of dout[N, 2H, 2W, Cout].
    public static func backwardInput(_ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                     _ g: ConvGeometry, scratch: ConvScratch) {
        Conv2D.forward(dinput, dout, weight, nil, g, scratch: scratch, accumulate: true)
    }

    /// dweight[3, 3, Cout, Cin] += ..., dbias[Cout] += sum of dout.
    public static func backwardWeights(_ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                                       _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry,
                                       scratch: ConvScratch) {
        Conv2D.backwardWeights(dweight, nil, dout, input, g, scratch: scratch)
        if let dbias {
            Elementwise.columnSums(dbias, dout, rows: g.batch * g.height * g.width, columns: g.inChannels,
                                   partial: scratch.padded.elements(16 * g.inChannels))
        }
    }
}
