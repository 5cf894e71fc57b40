// The pointwise functions fused into a kernel's input or output (identity, swish), and their derivatives.
import Foundation

/// A pointwise function fused into a kernel's input or output.
public enum Activation: Sendable {
    case identity, swish

    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> {
        self == .swish ? v * FastMath.sigmoid(v) : v
    }
    @inline(__always) func callAsFunction(_ v: Float) -> Float {
        self == .swish ? v * FastMath.sigmoid(v) : v
    }
    /// The derivative at v.
    @inline(__always) func derivative(_ v: SIMD8<Float>) -> SIMD8<Float> {
        if self == .identity { return SIMD8(repeating: 1) }
        return FastMath.swishDerivative(v, times: SIMD8(repeating: 1))
    }
    @inline(__always) func derivative(_ v: Float) -> Float {
        if self == .identity { return 1 }
        return FastMath.swishDerivative(v, times: 1)
    }
}
