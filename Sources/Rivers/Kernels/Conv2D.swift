// 2-D convolution, NHWC, weights HWIO, TensorFlow "same" padding: the geometry, forward and
// backward-input (by stride phases) as implicit GEMMs on the shared micro-kernel.
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
        precondition(
            batch > 0 && height > 0 && width > 0 && inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0,
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
    public var flops: Double {
        2 * Double(batch * outHeight * outWidth) * Double(kernel * kernel * inChannels * outChannels)
    }
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
    /// With `accumulate`, the result is added to `out` (bias still added once). Stride-1 3x3
    /// convolutions run Winograd F(2x2, 3x3), or F(4x4, 3x3) with `winogradTile` 4 (generation).
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch, accumulate: Bool = false,
        winogradTile: Int = 2
    ) {
        if Winograd.applies(g) && winogradTile == 4 {
            Winograd.convolve4(
                out, input, weight, bias, batch: g.batch, height: g.height, width: g.width, inChannels: g.inChannels,
                outChannels: g.outChannels, accumulate: accumulate, scratch: scratch)
            return
        }
        if Winograd.applies(g) {
            Winograd.convolve(
                out, input, weight, bias, batch: g.batch, height: g.height, width: g.width, inChannels: g.inChannels,
                outChannels: g.outChannels, flipped: false, accumulate: accumulate, scratch: scratch)
            return
        }
        direct(out, input, weight, bias, g, scratch: scratch, accumulate: accumulate)
    }

    /// `forward` as an implicit GEMM over the taps: every convolution Winograd does not take.
    static func direct(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch, accumulate: Bool = false
    ) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        let (Ho, Wo) = (g.outHeight, g.outWidth)
        let K = k * k * Cin
        let packed = scratch.packed.elements(Gemm.packedSize(K: K, N: Cout))
        Gemm.packB(packed, weight, K: K, N: Cout, ldb: Cout, transposed: false)
        scratch.segments.removeAll(keepingCapacity: true)
        scratch.segmentTaps.removeAll(keepingCapacity: true)
        for ky in 0..<k {
            for kx in 0..<k {
                appendSegments(
                    scratch, kBase: (ky * k + kx) * Cin, channels: Cin, dy: ky - g.padTop, dx: kx - g.padLeft)
            }
        }
        implicitGemm(
            batch: g.batch, gridHeight: Ho, gridWidth: Wo, step: s, source: input, sourceHeight: H, sourceWidth: W,
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
    static func implicitGemm(
        batch: Int, gridHeight Hg: Int, gridWidth Wg: Int, step: Int,
        source: UnsafePointer<Float>, sourceHeight Hs: Int, sourceWidth Ws: Int, sourceChannels Cs: Int,
        N: Int, rowC: (Int) -> UnsafeMutablePointer<Float>?, packed: UnsafePointer<Float>, K: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, scratch: GemmScratch
    ) {
        let segs = scratch.segments, segTap = scratch.segmentTaps
        let zeros = UnsafePointer(zeroRow.pointer)
        Gemm.drive(
            M: batch * Hg * Wg, N: N, segments: segs, aStep: 1,
            fillA: { m0, rows, table, stride in
                for i in 0..<stride {
                    let m = m0 + min(i, rows - 1)
                    let x = m % Wg, y = (m / Wg) % Hg, n = m / (Wg * Hg)
                    for si in 0..<segTap.count {
                        let t = segTap[si]
                        let sy = y * step + t.dy, sx = x * step + t.dx
                        table[si * stride + i] =
                            sy >= 0 && sy < Hs && sx >= 0 && sx < Ws
                            ? source + ((n * Hs + sy) * Ws + sx) * Cs + t.c0 : zeros
                    }
                }
            }, rowC: rowC, packedB: packed, K: K, bias: bias, accumulate: accumulate, scratch: scratch)
    }

    /// dinput[N, H, W, Cin] += the gradient of `forward` for dout[N, Ho, Wo, Cout].
    public static func backwardInput(
        _ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ g: ConvGeometry, scratch: ConvScratch
    ) {
        if Winograd.applies(g) {
            Winograd.convolve(
                dinput, dout, weight, nil, batch: g.batch, height: g.height, width: g.width, inChannels: g.outChannels,
                outChannels: g.inChannels, flipped: true, accumulate: true, scratch: scratch)
            return
        }
        transposed(dinput, dout, weight, g, bias: nil, scratch: scratch, accumulate: true)
    }

    /// The transpose of `forward`: dinput[N, H, W, Cin] (+)= convT(dout[N, Ho, Wo, Cout]) (+ bias[Cin]),
    /// computed per stride phase (iy mod s, ix mod s), each a small convolution with only the
    /// taps that reach that phase. Without `accumulate` it overwrites: the forward pass of a
    /// transposed convolution.
    static func transposed(
        _ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ g: ConvGeometry, bias: UnsafePointer<Float>?, scratch: ConvScratch, accumulate: Bool
    ) {
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
                    Gemm.packB(
                        packed, weight + (tap.ky * k + tap.kx) * Cin * Cout, K: Cout, N: Cin, ldb: Cout,
                        transposed: true, kOffset: t * Cout, kTotal: K)
                    appendSegments(scratch, kBase: t * Cout, channels: Cout, dy: tap.dy, dx: tap.dx)
                }
                implicitGemm(
                    batch: g.batch, gridHeight: Hc, gridWidth: Wc, step: 1, source: dout, sourceHeight: Ho,
                    sourceWidth: Wo,
                    sourceChannels: Cout, N: Cin,
                    rowC: { m in
                        let j = m % Wc, ii = (m / Wc) % Hc, n = m / (Wc * Hc)
                        return dinput + ((n * H + ii * s + py) * W + j * s + px) * Cin
                    }, packed: packed, K: K, bias: bias, accumulate: accumulate, scratch: scratch)
            }
        }
    }
}
