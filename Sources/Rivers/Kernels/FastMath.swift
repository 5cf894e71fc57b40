// Vectorized exp, sigmoid and swish derivative on SIMD8 (Cephes' expf polynomial): elementwise passes over
// full-resolution activations cannot afford a scalar libm call per value.
import Foundation

public enum FastMath {
    /// e^x, relative error within a few ulp of float for x in [-87, 88] (clamped outside).
    /// Written with plain arithmetic, masks and bit casts only: the generic SIMD rounding,
    /// clamping and integer conversions compile to out-of-line calls.
    @inline(__always)
    public static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var x = v.replacing(with: -87, where: v .< -87)
        x.replace(with: 88, where: x .> 88)
        // n = round(x / ln2): adding 1.5 * 2^23 rounds to an integer in the low mantissa bits;
        // with 127 added too, those bits are n + 127, the biased exponent of 2^n.
        let magic = SIMD8<Float>(repeating: 12_582_912 + 127)
        let t = x * 1.442_695_04 + magic
        let n = t - magic
        // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two for an exact product.
        x.addProduct(n, SIMD8(repeating: -0.693_359_375))
        x.addProduct(n, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * x + 1.398_199_95e-3
        p = p * x + 8.333_451_9e-3
        p = p * x + 4.166_579_6e-2
        p = p * x + 1.666_666_55e-1
        p = p * x + 5.000_000_1e-1
        let y = p * (x * x) + x + 1
        // 2^n: the low bits of t, moved into the exponent field.
        let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &<< 23
        return y * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// 1 / (1 + e^-x).
    @inline(__always)
    public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// Scalar sigmoid for tails.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// g times the derivative of swish(x) = x sigmoid(x): (g s) (1 + x (1 - s)), s = sigmoid(x).
    /// g = 1 gives the derivative alone (1 * s is exact, so no extra rounding).
    @inline(__always)
    static func swishDerivative(_ x: SIMD8<Float>, times g: SIMD8<Float>) -> SIMD8<Float> {
        let s = sigmoid(x)
        return g * s * (1 + x * (1 - s))
    }

    /// The scalar twin of `swishDerivative(_:times:)`, for tails.
    @inline(__always)
    static func swishDerivative(_ x: Float, times g: Float) -> Float {
        let s = sigmoid(x)
        return g * s * (1 + x * (1 - s))
    }
}
