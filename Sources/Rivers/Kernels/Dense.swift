// Dense (fully connected) layers over rows: y[M, out] = x[M, in] W[in, out] + b.
import Foundation

public enum Dense {
    /// y[M, O] = x[M, I] W[I, O] + b[O].
    public static func forward(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ b: UnsafePointer<Float>?,
        M: Int, inputs I: Int, outputs O: Int, scratch: GemmScratch, accumulate: Bool = false
    ) {
        Gemm.multiply(
            M: M, N: O, K: I, a: x, lda: I, transposeA: false, b: w, ldb: O, transposeB: false, c: y, ldc: O,
            bias: b, accumulate: accumulate, scratch: scratch)
    }

    /// dx[M, I] += dy W^T; dW[I, O] += x^T dy; db[O] += column sums of dy.
    public static func backward(
        _ dx: UnsafeMutablePointer<Float>?, _ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>?,
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        M: Int, inputs I: Int, outputs O: Int, scratch: GemmScratch
    ) {
        if let dx {
            Gemm.multiply(
                M: M, N: I, K: O, a: dy, lda: O, transposeA: false, b: w, ldb: O, transposeB: true, c: dx, ldc: I,
                accumulate: true, scratch: scratch)
        }
        Gemm.multiply(
            M: I, N: O, K: M, a: x, lda: I, transposeA: true, b: dy, ldb: O, transposeB: false, c: dw, ldc: O,
            accumulate: true, scratch: scratch)
        if let db {
            Elementwise.columnSums(db, dy, rows: M, columns: O, partial: scratch.partial.elements(16 * O))
        }
    }
}
