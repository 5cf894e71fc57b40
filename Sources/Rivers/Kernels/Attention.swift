// Multi-head self-attention over the H*W pixels of each image, with a residual connection.
import Foundation

/// Weights of one attention layer: q, k, v projections C -> h*d and the output projection
/// h*d -> C, each with a bias (Keras' MultiHeadAttention).
public struct AttentionWeights {
    public var wq, bq, wk, bk, wv, bv, wo, bo: UnsafeMutablePointer<Float>
    public init(
        wq: UnsafeMutablePointer<Float>, bq: UnsafeMutablePointer<Float>, wk: UnsafeMutablePointer<Float>,
        bk: UnsafeMutablePointer<Float>,
        wv: UnsafeMutablePointer<Float>, bv: UnsafeMutablePointer<Float>, wo: UnsafeMutablePointer<Float>,
        bo: UnsafeMutablePointer<Float>
    ) {
        self.wq = wq; self.bq = bq; self.wk = wk; self.bk = bk; self.wv = wv; self.bv = bv; self.wo = wo; self.bo = bo
    }
    /// Floats of each tensor, in the order above.
    public static func sizes(channels C: Int, heads h: Int, keyDim d: Int) -> [Int] {
        [C * h * d, h * d, C * h * d, h * d, C * h * d, h * d, h * d * C, C]
    }
}

/// What the forward pass keeps for the backward pass (caller-owned buffers).
public struct AttentionCache {
    /// q, k, v: [N, L, h*d] each; probs: [N, h, L, L] (the softmax, before any dropout);
    /// context: [N, L, h*d].
    public var q, k, v, probs, context: UnsafeMutablePointer<Float>
    public init(
        q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        probs: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>
    ) {
        self.q = q; self.k = k; self.v = v; self.probs = probs; self.context = context
    }
    /// Floats of each buffer, in the order above.
    public static func sizes(batch N: Int, length L: Int, heads h: Int, keyDim d: Int) -> [Int] {
        [N * L * h * d, N * L * h * d, N * L * h * d, N * h * L * L, N * L * h * d]
    }
}

public enum Attention {
    /// out[N, L, C] = x + (concat_h softmax(q_h k_h^T / sqrt(d)) v_h) Wo + bo, with q, k, v = x W + b.
    /// `dropoutMask` ([N, h, L, L], values 0 or 1/(1 - rate)) multiplies the probabilities; it
    /// then needs `work` of L*L floats for the masked copy.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ cache: AttentionCache, _ x: UnsafePointer<Float>,
        _ w: AttentionWeights, N: Int, L: Int, C: Int, heads h: Int, keyDim d: Int,
        dropoutMask: UnsafePointer<Float>? = nil, work: UnsafeMutablePointer<Float>? = nil, scratch: GemmScratch
    ) {
        let hd = h * d
        Dense.forward(cache.q, x, w.wq, w.bq, M: N * L, inputs: C, outputs: hd, scratch: scratch)
        Dense.forward(cache.k, x, w.wk, w.bk, M: N * L, inputs: C, outputs: hd, scratch: scratch)
        Dense.forward(cache.v, x, w.wv, w.bv, M: N * L, inputs: C, outputs: hd, scratch: scratch)
        let scale = 1 / Float(d).squareRoot()
        for n in 0..<N {
            for head in 0..<h {
                let q = cache.q + n * L * hd + head * d, k = cache.k + n * L * hd + head * d,
                    v = cache.v + n * L * hd + head * d
                let p = cache.probs + (n * h + head) * L * L
                // scores = q k^T (rows of q and k are strided by h*d within the packed projections)
                Gemm.multiply(
                    M: L, N: L, K: d, a: q, lda: hd, transposeA: false, b: k, ldb: hd, transposeB: true, c: p, ldc: L,
                    scratch: scratch)
                Parallel.forChunks(L, minimumChunk: 16) { rows in
                    for r in rows { softmaxRow(p + r * L, L, scale: scale) }
                }
                var used = UnsafePointer(p)
                if let mask = dropoutMask {
                    guard let work else { preconditionFailure("attention dropout needs a work buffer of L*L floats") }
                    let m = mask + (n * h + head) * L * L
                    for i in 0..<(L * L) { work[i] = p[i] * m[i] }
                    used = UnsafePointer(work)
                }
                Gemm.multiply(
                    M: L, N: d, K: L, a: used, lda: L, transposeA: false, b: v, ldb: hd, transposeB: false,
                    c: cache.context + n * L * hd + head * d, ldc: hd, scratch: scratch)
            }
        }
        // out = x + context Wo + bo
        (out).update(from: x, count: N * L * C)
        Dense.forward(
            out, cache.context, w.wo, w.bo, M: N * L, inputs: hd, outputs: C, scratch: scratch, accumulate: true)
    }

    /// row = softmax(scale * row), stable (max subtracted), in place; exp on SIMD8 (FastMath),
    /// since rows are L long and there are L of them per head.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int, scale: Float) {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, row[j]) }
        var s: Float = 0
        var j = 0
        while j + 8 <= n {
            let e = FastMath.exp((row.simd8(at: j) - m) * scale)
            row.storeSIMD8(e, at: j)
            s += e.sum()
            j += 8
        }
        while j < n { let e = Foundation.exp((row[j] - m) * scale); row[j] = e; s += e; j += 1 }
        let inv = 1 / s
        for j in 0..<n { row[j] *= inv }
    }

    /// Gradients of `forward`: dx += ..., and every weight gradient += ... in `dw`.
    /// `work` needs 4 * N*L*h*d + 2 * L*L floats: dcontext, dq, dk, dv, dP and the masked P.
    public static func backward(
        _ dx: UnsafeMutablePointer<Float>, _ dw: AttentionWeights, _ dout: UnsafePointer<Float>,
        _ x: UnsafePointer<Float>, _ w: AttentionWeights, _ cache: AttentionCache,
        N: Int, L: Int, C: Int, heads h: Int, keyDim d: Int,
        dropoutMask: UnsafePointer<Float>? = nil, work: UnsafeMutablePointer<Float>, scratch: GemmScratch
    ) {
        let hd = h * d
        let dcontext = work, dq = work + N * L * hd, dk = dq + N * L * hd, dv = dk + N * L * hd
        let dp = dv + N * L * hd, masked = dp + L * L
        let scale = 1 / Float(d).squareRoot()
        // The residual's share, then every projection's input gradient is added to it.
        for i in 0..<(N * L * C) { dx[i] += dout[i] }
        Dense.backward(nil, dw.wo, dw.bo, dout, cache.context, w.wo, M: N * L, inputs: hd, outputs: C, scratch: scratch)
        Gemm.multiply(
            M: N * L, N: hd, K: C, a: dout, lda: C, transposeA: false, b: w.wo, ldb: C, transposeB: true, c: dcontext,
            ldc: hd, scratch: scratch)
        for n in 0..<N {
            for head in 0..<h {
                let off = n * L * hd + head * d
                let p = cache.probs + (n * h + head) * L * L
                let mask = dropoutMask.map { $0 + (n * h + head) * L * L }
                var used = UnsafePointer(p)
                if let mask {
                    for i in 0..<(L * L) { masked[i] = p[i] * mask[i] }
                    used = UnsafePointer(masked)
                }
                // context = P' v with P' the (masked) probabilities: dv = P'^T dcontext, dP' = dcontext v^T.
                Gemm.multiply(
                    M: L, N: d, K: L, a: used, lda: L, transposeA: true, b: dcontext + off, ldb: hd, transposeB: false,
                    c: dv + off, ldc: hd, scratch: scratch)
                Gemm.multiply(
                    M: L, N: L, K: d, a: dcontext + off, lda: hd, transposeA: false, b: cache.v + off, ldb: hd,
                    transposeB: true,
                    c: dp, ldc: L, scratch: scratch)
                // Through the mask (dP = dP' * mask), then the softmax of the scaled scores:
                // dS = scale * P (dP - sum_j dP_j P_j).
                Parallel.forChunks(L, minimumChunk: 16) { rows in
                    for r in rows {
                        let pr = p + r * L, dpr = dp + r * L
                        if let mask { for j in 0..<L { dpr[j] *= mask[r * L + j] } }
                        var dot: Float = 0
                        for j in 0..<L { dot += dpr[j] * pr[j] }
                        for j in 0..<L { dpr[j] = pr[j] * (dpr[j] - dot) * scale }
                    }
                }
                // scores = q k^T: dq = dS k, dk = dS^T q.
                Gemm.multiply(
                    M: L, N: d, K: L, a: dp, lda: L, transposeA: false, b: cache.k + off, ldb: hd, transposeB: false,
                    c: dq + off, ldc: hd, scratch: scratch)
                Gemm.multiply(
                    M: L, N: d, K: L, a: dp, lda: L, transposeA: true, b: cache.q + off, ldb: hd, transposeB: false,
                    c: dk + off, ldc: hd, scratch: scratch)
            }
        }
        Dense.backward(dx, dw.wq, dw.bq, dq, x, w.wq, M: N * L, inputs: C, outputs: hd, scratch: scratch)
        Dense.backward(dx, dw.wk, dw.bk, dk, x, w.wk, M: N * L, inputs: C, outputs: hd, scratch: scratch)
        Dense.backward(dx, dw.wv, dw.bv, dv, x, w.wv, M: N * L, inputs: C, outputs: hd, scratch: scratch)
    }

    /// The naive twin: the definition for one image in Double, heads one by one.
    /// `weights` are wq, bq, wk, bk, wv, bv, wo, bo; `mask` ([h, L, L]) multiplies the probabilities.
    public static func forwardNaive(
        x: [Double], L: Int, C: Int, heads h: Int, keyDim d: Int, weights: [[Double]], mask: [Double]? = nil
    ) -> [Double] {
        let hd = h * d
        func project(_ w: [Double], _ b: [Double], _ input: [Double], _ inDim: Int, _ outDim: Int) -> [Double] {
            var y = [Double](repeating: 0, count: L * outDim)
            for r in 0..<L {
                for o in 0..<outDim {
                    var s = b[o]
                    for i in 0..<inDim { s += input[r * inDim + i] * w[i * outDim + o] }
                    y[r * outDim + o] = s
                }
            }
            return y
        }
        let q = project(weights[0], weights[1], x, C, hd), k = project(weights[2], weights[3], x, C, hd),
            v = project(weights[4], weights[5], x, C, hd)
        var context = [Double](repeating: 0, count: L * hd)
        for head in 0..<h {
            for r in 0..<L {
                var scores = (0..<L).map { t in
                    (0..<d).reduce(0.0) { $0 + q[r * hd + head * d + $1] * k[t * hd + head * d + $1] }
                        / Double(d).squareRoot()
                }
                let m = scores.max()!
                scores = scores.map { Foundation.exp($0 - m) }
                let s = scores.reduce(0, +)
                for t in 0..<L {
                    let p = scores[t] / s * (mask?[(head * L + r) * L + t] ?? 1)
                    for i in 0..<d { context[r * hd + head * d + i] += p * v[t * hd + head * d + i] }
                }
            }
        }
        let o = project(weights[6], weights[7], context, hd, C)
        return (0..<(L * C)).map { x[$0] + o[$0] }
    }
}
