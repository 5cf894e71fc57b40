import Foundation
import Rivers
func probeGemm(M: Int, N: Int, K: Int) -> Double {
    let a = FloatBuffer(count: M * K), b = FloatBuffer(count: K * N), c = FloatBuffer(count: M * N)
    for i in 0..<(M * K) { a.pointer[i] = Float(i % 7) * 0.1 }
    for i in 0..<(K * N) { b.pointer[i] = Float(i % 5) * 0.1 }
    let ws = Scratch()
    var best = 1e9
    for _ in 0..<5 {
        let t = Date()
        Gemm.multiply(M: M, N: N, K: K, a: a.pointer, lda: K, transposeA: false, b: b.pointer, ldb: N, transposeB: false, c: c.pointer, ldc: N, scratch: ws)
        best = min(best, Date().timeIntervalSince(t))
    }
    return 2.0 * Double(M * N * K) / best / 1e9
}
