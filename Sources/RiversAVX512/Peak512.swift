// Code built for x86-64-v4 (AVX-512): run only after the CPU's flags say it can. For now the
// 512-bit FMA loop of rivers-bench peak; the AVX-512 kernels will live beside it.
import Foundation

public enum AVX512 {
    /// rivers-bench's 256-bit loop with SIMD16: written out here, not as a generic shared with it,
    /// since a generic would be specialized (and compiled) in the caller's module, for AVX2.
    /// x = x * m + x on 12 independent 512-bit chains, `iterations` times; returns a sum the
    /// compiler cannot fold. 12 * 16 * 2 FLOPs an iteration.
    @inline(never)
    public static func fmaChains(seed: Float, iterations: Int) -> Float {
        let m = SIMD16<Float>(repeating: -0.000_000_1)
        var c0 = SIMD16<Float>(repeating: seed), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4
        var c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7, c8 = c0 + 8, c9 = c0 + 9, c10 = c0 + 10, c11 = c0 + 11
        for _ in 0..<iterations {
            c0 = c0.addingProduct(c0, m); c1 = c1.addingProduct(c1, m); c2 = c2.addingProduct(c2, m)
            c3 = c3.addingProduct(c3, m); c4 = c4.addingProduct(c4, m); c5 = c5.addingProduct(c5, m)
            c6 = c6.addingProduct(c6, m); c7 = c7.addingProduct(c7, m); c8 = c8.addingProduct(c8, m)
            c9 = c9.addingProduct(c9, m); c10 = c10.addingProduct(c10, m); c11 = c11.addingProduct(c11, m)
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).sum()
    }

    /// FLOPs of one iteration of `fmaChains`.
    public static let flopsPerIteration = 12 * 16 * 2
}
