// Softmax cross-entropy of rows of logits against integer labels (the classifier's loss),
// forward and backward, with its naive twins in Double.
import Foundation

public enum SoftmaxCrossEntropy {
    /// Rows are cut into this many chunks (one for small batches), whatever the thread count;
    /// rows are independent and their losses are added in row order, so the split never shows.
    static func chunks(N: Int, K: Int) -> Int { max(1, min(16, N * K / 4096)) }

    /// Traps unless every one of the N labels lies in 0..<K.
    static func checkLabels(_ labels: UnsafePointer<Int>, N: Int, K: Int) {
        precondition(N > 0 && K > 0, "SoftmaxCrossEntropy sizes must be positive")
        for n in 0..<N {
            precondition(
                labels[n] >= 0 && labels[n] < K,
                "SoftmaxCrossEntropy: label \(labels[n]) of row \(n) is not in 0..<\(K)")
        }
    }

    /// p[0..<K] = softmax(l[0..<K]); returns log(sum_k exp(l_k - m)) with m = max_k l_k, so that
    /// logSumExp(l) = m + the result. With the max subtracted, every exponent is <= 0 (nothing
    /// overflows, whatever the logits) and the largest term is exactly 1 (the sum is >= 1, its log
    /// finite). exp on SIMD8 (FastMath, clamped below at -87: such terms are < 2e-38 of the sum).
    @inline(__always)
    static func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ l: UnsafePointer<Float>, _ K: Int, max m: Float)
        -> Double
    {
        var s: Float = 0
        var k = 0
        while k + 8 <= K {
            let e = FastMath.exp(l.simd8(at: k) - m)
            p.storeSIMD8(e, at: k)
            s += e.sum()
            k += 8
        }
        while k < K { let e = Foundation.exp(l[k] - m); p[k] = e; s += e; k += 1 }
        let inverse = 1 / s
        for k in 0..<K { p[k] *= inverse }
        return Foundation.log(Double(s))
    }

    /// probabilities[N, K] = softmax(logits[N, K]) per row; returns the mean over the N rows of
    /// -log softmax(logits[n])[labels[n]] = logSumExp(logits[n]) - logits[n, labels[n]], summed
    /// in Double. The log-sum-exp form keeps the loss finite when the label's probability
    /// underflows to 0 (logits of +-1e4). labels[N] must each lie in 0..<K: one outside is a
    /// programming error and traps (precondition), so labels read from user data are checked
    /// before they get here.
    public static func forward(
        _ probabilities: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, _ labels: UnsafePointer<Int>,
        N: Int, K: Int
    ) -> Double {
        checkLabels(labels, N: N, K: K)
        let parts = chunks(N: N, K: K)
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: N) { rowLoss in
            Parallel.forEach(parts) { j in
                for n in (N * j / parts)..<(N * (j + 1) / parts) {
                    let l = logits + n * K
                    var m = -Float.infinity
                    for k in 0..<K { m = max(m, l[k]) }
                    let logSum = softmaxRow(probabilities + n * K, l, K, max: m)
                    // m - l[label] >= 0 is exact in Double, however large the logits.
                    rowLoss[n] = (Double(m) - Double(l[labels[n]])) + logSum
                }
            }
            var total = 0.0
            for n in 0..<N { total += rowLoss[n] }
            return total / Double(N)
        }
    }

    /// dlogits[N, K] += (probabilities[N, K] - onehot(labels[N])) * scale / N: the gradient of
    /// `forward`'s mean loss times `scale` (1 for the loss alone; another weight when the caller
    /// weights this loss against others). labels must each lie in 0..<K (precondition).
    public static func backward(
        _ dlogits: UnsafeMutablePointer<Float>, _ probabilities: UnsafePointer<Float>, _ labels: UnsafePointer<Int>,
        N: Int, K: Int, scale: Float = 1
    ) {
        checkLabels(labels, N: N, K: K)
        let factor = Float(Double(scale) / Double(N))
        let parts = chunks(N: N, K: K)
        Parallel.forEach(parts) { j in
            for n in (N * j / parts)..<(N * (j + 1) / parts) {
                let d = dlogits + n * K, p = probabilities + n * K, y = labels[n]
                // The label's entry is redone from its old value: (p - 1) factor, one add.
                let labelStart = d[y]
                var k = 0
                while k + 8 <= K {
                    d.storeSIMD8(d.simd8(at: k) + p.simd8(at: k) * factor, at: k)
                    k += 8
                }
                while k < K { d[k] += p[k] * factor; k += 1 }
                d[y] = labelStart + (p[y] - 1) * factor
            }
        }
    }

    /// The naive twin of `forward`, in Double: per row, logSumExp(l) = m + log(sum exp(l - m))
    /// (m the row's max), probabilities = exp(l - logSumExp(l)); returns the mean over rows of
    /// logSumExp(l) - l[label].
    public static func forwardNaive(
        _ probabilities: UnsafeMutablePointer<Double>, _ logits: UnsafePointer<Double>, _ labels: UnsafePointer<Int>,
        N: Int, K: Int
    ) -> Double {
        checkLabels(labels, N: N, K: K)
        var total = 0.0
        for n in 0..<N {
            let l = logits + n * K
            var m = -Double.infinity
            for k in 0..<K { m = max(m, l[k]) }
            var sum = 0.0
            for k in 0..<K { sum += Foundation.exp(l[k] - m) }
            let logSumExp = m + Foundation.log(sum)
            for k in 0..<K { probabilities[n * K + k] = Foundation.exp(l[k] - logSumExp) }
            total += logSumExp - l[labels[n]]
        }
        return total / Double(N)
    }

    /// The naive twin of `backward`, in Double: dlogits += (probabilities - onehot) * scale / N.
    public static func backwardNaive(
        _ dlogits: UnsafeMutablePointer<Double>, _ probabilities: UnsafePointer<Double>, _ labels: UnsafePointer<Int>,
        N: Int, K: Int, scale: Double = 1
    ) {
        checkLabels(labels, N: N, K: K)
        for n in 0..<N {
            for k in 0..<K {
                let i = n * K + k
                dlogits[i] += (probabilities[i] - (k == labels[n] ? 1 : 0)) * scale / Double(N)
            }
        }
    }
}
