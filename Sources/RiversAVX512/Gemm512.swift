// The GEMM micro-kernel for AVX-512: 12 rows x 32 columns (two 512-bit registers a row), so 24
// accumulators, two B vectors and a broadcast A value fill 27 of the 32 vector registers, and
// each k step issues 24 FMAs for 2 loads of B and 12 broadcasts of A (the AVX2 kernel's 6x16
// issues 12 for 2 and 6). The same contract as the AVX2 tile (Gemm.tile in Rivers), with B
// packed in 32-column strips. Built for x86-64-v4: called only when the CPU has AVX-512. Written
// out beside the AVX2 tile rather than shared as a generic over the vector type: a generic is
// compiled in the module that specializes it, with that module's flags (x86-64-v3 in Rivers).
import Foundation

extension UnsafePointer where Pointee == Float {
    @inline(__always) fileprivate func simd16(at i: Int = 0) -> SIMD16<Float> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD16<Float>.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) fileprivate func simd16(at i: Int = 0) -> SIMD16<Float> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) fileprivate func store16(_ v: SIMD16<Float>, at i: Int = 0) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}

extension AVX512 {
    /// Rows and columns of the micro-tile.
    public static let mr = 12
    public static let nr = 32

    /// C[r, n0..<n0+nCount] (+)= sum_p A_r[p * aStep] * B[p * ldb + j] for the twelve rows r,
    /// A_r = a[r]; rows whose C pointer is nil are computed and dropped. `bias` (nCount values)
    /// is added when given; with `add`, C is accumulated into. nCount <= 32; B holds 32 columns.
    @inline(never)
    public static func tile(
        _ k: Int, _ a: UnsafePointer<UnsafePointer<Float>>, _ aStep: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafePointer<UnsafeMutablePointer<Float>?>, _ n0: Int, _ nCount: Int,
        _ add: Bool, _ bias: UnsafePointer<Float>?
    ) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var c60 = V(), c61 = V(), c70 = V(), c71 = V(), c80 = V(), c81 = V()
        var c90 = V(), c91 = V(), ca0 = V(), ca1 = V(), cb0 = V(), cb1 = V()
        let a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5]
        let a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11]
        var bp = b
        var off = 0
        for _ in 0..<k {
            let b0 = bp.simd16(), b1 = bp.simd16(at: 16)
            var x = V(repeating: a0[off]); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = V(repeating: a1[off]); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = V(repeating: a2[off]); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = V(repeating: a3[off]); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = V(repeating: a4[off]); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = V(repeating: a5[off]); c50.addProduct(x, b0); c51.addProduct(x, b1)
            x = V(repeating: a6[off]); c60.addProduct(x, b0); c61.addProduct(x, b1)
            x = V(repeating: a7[off]); c70.addProduct(x, b0); c71.addProduct(x, b1)
            x = V(repeating: a8[off]); c80.addProduct(x, b0); c81.addProduct(x, b1)
            x = V(repeating: a9[off]); c90.addProduct(x, b0); c91.addProduct(x, b1)
            x = V(repeating: a10[off]); ca0.addProduct(x, b0); ca1.addProduct(x, b1)
            x = V(repeating: a11[off]); cb0.addProduct(x, b0); cb1.addProduct(x, b1)
            off &+= aStep
            bp += ldb
        }
        var bias0 = V(), bias1 = V()
        if let bias {
            for j in 0..<nCount { if j < 16 { bias0[j] = bias[j] } else { bias1[j - 16] = bias[j] } }
        }
        @inline(__always) func store(_ r: Int, _ lo: V, _ hi: V) {
            guard let base = c[r] else { return }
            let dst = base + n0
            var lo = lo + bias0, hi = hi + bias1
            if nCount == nr {
                if add {
                    lo += dst.simd16()
                    hi += dst.simd16(at: 16)
                }
                dst.store16(lo)
                dst.store16(hi, at: 16)
            } else {
                for j in 0..<nCount {
                    let v = j < 16 ? lo[j] : hi[j - 16]
                    dst[j] = add ? dst[j] + v : v
                }
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21); store(3, c30, c31)
        store(4, c40, c41); store(5, c50, c51); store(6, c60, c61); store(7, c70, c71)
        store(8, c80, c81); store(9, c90, c91); store(10, ca0, ca1); store(11, cb0, cb1)
    }
}
