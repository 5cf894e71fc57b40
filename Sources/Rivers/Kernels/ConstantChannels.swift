// Convolutions of channels that are constant over each image (the noise embedding broadcast
// to every pixel), without materializing them.
import Foundation

/// Reusable memory of `ConstantChannels` (`ConstantChannels.scratchCount` floats for a shape).
public final class ConstantChannelsScratch: @unchecked Sendable {
    let floats = Scratch()
    let classes = ScratchBuffer<Int>()
    public init() {}
}

/// A convolution's share from input channels whose value is the same at every pixel of an image
/// (values[n, c] for channels offset..<offset+count of the full input). Where every tap lands
/// inside the image it is one vector per image, u[n, co] = sum_tap sum_c values[n, c] W[tap, c, co];
/// near the border the taps that fall in the zero padding are left out, so each output pixel
/// takes the sum over the taps valid there. Output rows (and columns) fall into classes by
/// which kernel rows are valid for them: at most 3 x 3 classes for a 3x3 kernel.
public enum ConstantChannels {
    /// Per output row (or column) of a dimension: the bit mask of the kernel taps inside the image.
    static func tapMask(_ o: Int, size: Int, kernel k: Int, stride s: Int, pad: Int) -> Int {
        var mask = 0
        for t in 0..<k { let i = o * s + t - pad; if i >= 0 && i < size { mask |= 1 << t } }
        return mask
    }

    /// The class of every row and column (indices into the distinct masks), and the masks.
    struct Classes {
        let rowClass: UnsafeMutablePointer<Int>, colClass: UnsafeMutablePointer<Int>
        let rowMasks: [Int], colMasks: [Int]
        init(_ g: ConvGeometry, _ scratch: ConstantChannelsScratch) {
            let table = scratch.classes.elements(g.outHeight + g.outWidth)
            func classify(_ n: Int, _ size: Int, _ pad: Int, _ dst: UnsafeMutablePointer<Int>) -> [Int] {
                var masks: [Int] = []
                for o in 0..<n {
                    let m = tapMask(o, size: size, kernel: g.kernel, stride: g.stride, pad: pad)
                    if let i = masks.firstIndex(of: m) { dst[o] = i } else { dst[o] = masks.count; masks.append(m) }
                }
                return masks
            }
            rowClass = table; colClass = table + g.outHeight
            rowMasks = classify(g.outHeight, g.height, g.padTop, rowClass)
            colMasks = classify(g.outWidth, g.width, g.padLeft, colClass)
        }
    }

    /// Floats of scratch for a geometry: per image, tap vectors and at most k x k class
    /// vectors (as Doubles in the backward pass).
    public static func scratchCount(_ g: ConvGeometry) -> Int {
        4 * g.batch * g.kernel * g.kernel * g.outChannels
    }

    /// out[N, Ho, Wo, Cout] += the contribution of the constant channels.
    /// `weight` is the full kernel [k, k, Cin, Cout] of geometry `g` (Cin counts every channel).
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>, offset: Int, count: Int,
        _ weight: UnsafePointer<Float>, _ g: ConvGeometry, scratch: ConstantChannelsScratch
    ) {
        let (k, Cin, Cout) = (g.kernel, g.inChannels, g.outChannels)
        precondition(offset >= 0 && offset + count <= Cin, "constant channels outside the kernel's input channels")
        let cl = Classes(g, scratch)
        let (rc, cc) = (cl.rowMasks.count, cl.colMasks.count)
        // u[n, tap, co], then one summed vector per (image, row class, column class).
        let u = scratch.floats.elements(g.batch * (k * k + rc * cc) * Cout)
        let vectors = u + g.batch * k * k * Cout
        Parallel.forEach(g.batch) { n in
            let un = u + n * k * k * Cout
            un.initialize(repeating: 0, count: k * k * Cout)
            for tap in 0..<(k * k) {
                for c in 0..<count {
                    let v = values[n * count + c], wr = weight + (tap * Cin + offset + c) * Cout, ur = un + tap * Cout
                    for co in 0..<Cout { ur[co] += v * wr[co] }
                }
            }
            for r in 0..<rc {
                for c in 0..<cc {
                    let vec = vectors + ((n * rc + r) * cc + c) * Cout
                    vec.initialize(repeating: 0, count: Cout)
                    for ky in 0..<k where cl.rowMasks[r] & (1 << ky) != 0 {
                        for kx in 0..<k where cl.colMasks[c] & (1 << kx) != 0 {
                            for co in 0..<Cout { vec[co] += un[(ky * k + kx) * Cout + co] }
                        }
                    }
                }
            }
        }
        Parallel.forChunks(g.batch * g.outHeight) { rows in
            for row in rows {
                let n = row / g.outHeight, oy = row % g.outHeight
                let base = vectors + (n * rc + cl.rowClass[oy]) * cc * Cout
                for ox in 0..<g.outWidth {
                    let o = out + (row * g.outWidth + ox) * Cout, vec = base + cl.colClass[ox] * Cout
                    for co in 0..<Cout { o[co] += vec[co] }
                }
            }
        }
    }

    /// dvalues[N, count] += and dweight[k, k, Cin, Cout] (rows offset..<offset+count) += the
    /// constant channels' gradients, from S[n, tap, co] = sum of dout over the pixels where tap is
    /// valid, itself a sum of the class sums T[n, row class, column class, co].
    public static func backward(
        dvalues: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
        values: UnsafePointer<Float>, offset: Int, count: Int, _ weight: UnsafePointer<Float>, _ g: ConvGeometry,
        scratch: ConstantChannelsScratch
    ) {
        let (k, Cin, Cout) = (g.kernel, g.inChannels, g.outChannels)
        let cl = Classes(g, scratch)
        let (rc, cc) = (cl.rowMasks.count, cl.colMasks.count)
        let floats = scratch.floats.elements(2 * g.batch * (rc * cc + k * k) * Cout)
        // Double sums, stored in pairs of floats' room.
        let T = UnsafeMutableRawPointer(floats).bindMemory(
            to: Double.self, capacity: g.batch * (rc * cc + k * k) * Cout)
        let S = T + g.batch * rc * cc * Cout
        Parallel.forEach(g.batch) { n in
            let tn = T + n * rc * cc * Cout
            tn.initialize(repeating: 0, count: rc * cc * Cout)
            for oy in 0..<g.outHeight {
                let tr = tn + cl.rowClass[oy] * cc * Cout
                for ox in 0..<g.outWidth {
                    let o = dout + ((n * g.outHeight + oy) * g.outWidth + ox) * Cout, t = tr + cl.colClass[ox] * Cout
                    for co in 0..<Cout { t[co] += Double(o[co]) }
                }
            }
            let sn = S + n * k * k * Cout
            sn.initialize(repeating: 0, count: k * k * Cout)
            for r in 0..<rc {
                for c in 0..<cc {
                    let t = tn + (r * cc + c) * Cout
                    for ky in 0..<k where cl.rowMasks[r] & (1 << ky) != 0 {
                        for kx in 0..<k where cl.colMasks[c] & (1 << kx) != 0 {
                            for co in 0..<Cout { sn[(ky * k + kx) * Cout + co] += t[co] }
                        }
                    }
                }
            }
        }
        if let dvalues {
            for n in 0..<g.batch {
                for c in 0..<count {
                    var s = 0.0
                    for tap in 0..<(k * k) {
                        let wr = weight + (tap * Cin + offset + c) * Cout
                        for co in 0..<Cout { s += S[(n * k * k + tap) * Cout + co] * Double(wr[co]) }
                    }
                    dvalues[n * count + c] += Float(s)
                }
            }
        }
        if let dweight {
            for tap in 0..<(k * k) {
                for c in 0..<count {
                    for co in 0..<Cout {
                        var s = 0.0
                        for n in 0..<g.batch { s += Double(values[n * count + c]) * S[(n * k * k + tap) * Cout + co] }
                        dweight[(tap * Cin + offset + c) * Cout + co] += Float(s)
                    }
                }
            }
        }
    }
}
