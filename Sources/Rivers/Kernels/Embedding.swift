// The noise embedding, and convolutions of channels that are constant over each image
// (the embedding broadcast to every pixel) without materialising them.
import Foundation

public enum NoiseEmbedding {
    /// emb[n, 0..<E/2] = sin(2 pi f_k v_n), emb[n, E/2..<E] = cos(2 pi f_k v_n), with
    /// f_k = exp(linspace(ln 1, ln 1000, E/2)) and v_n the image's noise variance.
    public static func forward(_ emb: UnsafeMutablePointer<Float>, variances: UnsafePointer<Float>, N: Int, dims E: Int) {
        precondition(E % 2 == 0 && E >= 2, "embedding dimensions must be even")
        let half = E / 2
        for n in 0..<N {
            let v = Double(variances[n])
            for k in 0..<half {
                let f = Foundation.exp(Foundation.log(1000.0) * (half > 1 ? Double(k) / Double(half - 1) : 0))
                let angle = 2 * Double.pi * f * v
                emb[n * E + k] = Float(sin(angle))
                emb[n * E + half + k] = Float(cos(angle))
            }
        }
    }
}

/// A convolution's share from input channels whose value is the same at every pixel of an image
/// (values[n, c] for channels offset..<offset+count of the full input). Where every tap lands
/// inside the image it is one vector per image, u[n, co] = sum_tap sum_c values[n, c] W[tap, c, co];
/// near the border the taps that fall in the zero padding are left out, so each output pixel
/// takes the sum over the taps valid there: at most 9 distinct vectors (3 x 3 border classes).
public enum ConstantChannels {
    /// Which taps are inside the image for output row/column `o` of a dimension of size `size`.
    static func validTaps(_ o: Int, size: Int, kernel k: Int, stride s: Int, pad: Int) -> [Int] {
        (0..<k).filter { let i = o * s + $0 - pad; return i >= 0 && i < size }
    }

    /// out[N, Ho, Wo, Cout] += the contribution of the constant channels.
    /// `weight` is the full kernel [k, k, Cin, Cout] of geometry `g` (Cin counts every channel).
    public static func forward(_ out: UnsafeMutablePointer<Float>, values: UnsafePointer<Float>, offset: Int, count: Int,
                               _ weight: UnsafePointer<Float>, _ g: ConvGeometry) {
        let (k, Cin, Cout) = (g.kernel, g.inChannels, g.outChannels)
        precondition(offset >= 0 && offset + count <= Cin, "constant channels outside the kernel's input channels")
        // u[n, tap, co]
        var u = [Float](repeating: 0, count: g.batch * k * k * Cout)
        for n in 0..<g.batch { for tap in 0..<(k * k) { for c in 0..<count {
            let v = values[n * count + c], wr = weight + (tap * Cin + offset + c) * Cout
            for co in 0..<Cout { u[(n * k * k + tap) * Cout + co] += v * wr[co] }
        } } }
        let rows = (0..<g.outHeight).map { validTaps($0, size: g.height, kernel: k, stride: g.stride, pad: g.padTop) }
        let cols = (0..<g.outWidth).map { validTaps($0, size: g.width, kernel: k, stride: g.stride, pad: g.padLeft) }
        // One summed vector per (image, row class, column class), cached by the class's taps.
        Parallel.forEach(g.batch) { n in
            var cache: [[Int]: [Float]] = [:]
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let key = rows[oy] + [-1] + cols[ox]
                    let vector: [Float]
                    if let hit = cache[key] { vector = hit } else {
                        var s = [Float](repeating: 0, count: Cout)
                        for ky in rows[oy] { for kx in cols[ox] { for co in 0..<Cout { s[co] += u[(n * k * k + ky * k + kx) * Cout + co] } } }
                        cache[key] = s
                        vector = s
                    }
                    let o = out + ((n * g.outHeight + oy) * g.outWidth + ox) * Cout
                    for co in 0..<Cout { o[co] += vector[co] }
                }
            }
        }
    }

    /// dvalues[N, count] (+)= and dweight[k, k, Cin, Cout] (rows offset..<offset+count) (+)= the
    /// constant channels' gradients, from S[n, tap, co] = sum of dout over the pixels where tap is valid.
    public static func backward(dvalues: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                                values: UnsafePointer<Float>, offset: Int, count: Int, _ weight: UnsafePointer<Float>, _ g: ConvGeometry,
                                accumulate: Bool = false) {
        let (k, Cin, Cout) = (g.kernel, g.inChannels, g.outChannels)
        let rows = (0..<g.outHeight).map { validTaps($0, size: g.height, kernel: k, stride: g.stride, pad: g.padTop) }
        let cols = (0..<g.outWidth).map { validTaps($0, size: g.width, kernel: k, stride: g.stride, pad: g.padLeft) }
        var S = [Double](repeating: 0, count: g.batch * k * k * Cout)
        S.withUnsafeMutableBufferPointer { sp in
            Parallel.forEach(g.batch) { n in
                // Row sums per column class first, then taps: sum over pixels of dout, per tap.
                var rowSum = [Double](repeating: 0, count: Cout)
                for oy in 0..<g.outHeight {
                    for ox in 0..<g.outWidth {
                        let o = dout + ((n * g.outHeight + oy) * g.outWidth + ox) * Cout
                        for co in 0..<Cout { rowSum[co] = Double(o[co]) }
                        for ky in rows[oy] { for kx in cols[ox] {
                            let base = (n * k * k + ky * k + kx) * Cout
                            for co in 0..<Cout { sp[base + co] += rowSum[co] }
                        } }
                    }
                }
            }
        }
        if let dvalues {
            for n in 0..<g.batch { for c in 0..<count {
                var s = 0.0
                for tap in 0..<(k * k) {
                    let wr = weight + (tap * Cin + offset + c) * Cout
                    for co in 0..<Cout { s += S[(n * k * k + tap) * Cout + co] * Double(wr[co]) }
                }
                dvalues[n * count + c] = (accumulate ? dvalues[n * count + c] : 0) + Float(s)
            } }
        }
        if let dweight {
            for tap in 0..<(k * k) { for c in 0..<count { for co in 0..<Cout {
                var s = 0.0
                for n in 0..<g.batch { s += Double(values[n * count + c]) * S[(n * k * k + tap) * Cout + co] }
                let i = (tap * Cin + offset + c) * Cout + co
                dweight[i] = (accumulate ? dweight[i] : 0) + Float(s)
            } } }
        }
    }
}
