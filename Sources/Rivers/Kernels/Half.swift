// Float16 storage of activations kept for the backward pass (mixed precision): compute stays
// Float32; conversions are SIMD8 (F16C's vcvtps2ph / vcvtph2ps on x86-64-v3).
import Foundation

#if (os(macOS) || os(iOS)) && arch(x86_64)
    /// What Float16 slots hold. Float16 does not exist on Intel Macs: there they hold Float32, and
    /// mixed precision saves no memory.
    public typealias HalfStorage = Float
#else
    /// What Float16 slots hold: IEEE half precision.
    public typealias HalfStorage = Float16
#endif

public enum Half {
    /// dst = Float16(src), rounded to nearest; values beyond 65504 become infinity.
    public static func compress(_ dst: UnsafeMutablePointer<HalfStorage>, _ src: UnsafePointer<Float>, _ count: Int) {
        Parallel.forChunks(count, minimumChunk: Elementwise.grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                dst.storeSIMD8(SIMD8<HalfStorage>(src.simd8(at: i)), at: i)
                i += 8
            }
            while i < r.upperBound { dst[i] = HalfStorage(src[i]); i += 1 }
        }
    }

    /// dst[p * dstStride + c] = activation(src[p * channels + c]) for `pixels` pixels of
    /// `channels` values: a tensor expanded into (part of) a wider one, e.g. one side of a concat.
    public static func expand(
        _ dst: UnsafeMutablePointer<Float>, dstStride: Int, _ src: UnsafePointer<HalfStorage>, channels: Int,
        pixels: Int,
        activation: Activation = .identity
    ) {
        strided(dst, dstStride, src, channels, pixels, activation, { SIMD8<Float>($0.simd8()) }, { Float($0) })
    }

    /// The Float32 twin of `expand`: strided copy with an activation.
    public static func copy(
        _ dst: UnsafeMutablePointer<Float>, dstStride: Int, _ src: UnsafePointer<Float>, channels: Int, pixels: Int,
        activation: Activation = .identity
    ) {
        strided(dst, dstStride, src, channels, pixels, activation, { $0.simd8() }, { $0 })
    }

    @inline(__always)
    static func strided<T>(
        _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ src: UnsafePointer<T>, _ channels: Int, _ pixels: Int,
        _ activation: Activation, _ load8: (UnsafePointer<T>) -> SIMD8<Float>, _ load1: (T) -> Float
    ) {
        Parallel.forChunks(pixels, minimumChunk: max(1, Elementwise.grain / max(channels, 1))) { r in
            for p in r {
                let s = src + p * channels, d = dst + p * dstStride
                var c = 0
                while c + 8 <= channels {
                    d.storeSIMD8(activation(load8(s + c)), at: c)
                    c += 8
                }
                while c < channels { d[c] = activation(load1(s[c])); c += 1 }
            }
        }
    }
}
