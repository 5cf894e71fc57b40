// Global average pooling over NHWC (the classifier's last feature map to one vector per image),
// forward and backward, with its naive twins in Double.
import Foundation

public enum Pooling {
    /// Pixels summed in float before the sum is added to a Double accumulator (as in GroupNorm):
    /// float SIMD8 adds for speed, Double so that large images lose nothing to the running sum.
    static let floatRun = 64

    /// out[N, C] = the mean over the HW = H * W pixels of x[N, H, W, C] (read as [N, HW, C]).
    /// Parallel over images; each image is summed in one fixed order, so the result does not
    /// depend on the thread count.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, N: Int, HW: Int, C: Int
    ) {
        precondition(N > 0 && HW > 0 && C > 0, "Pooling sizes must be positive")
        Parallel.forEach(N) { n in
            let xn = x + n * HW * C, on = out + n * C
            withUnsafeTemporaryAllocation(of: Double.self, capacity: C) { total in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: C) { runBuffer in
                    let run = runBuffer.baseAddress!
                    total.initialize(repeating: 0)
                    var p = 0
                    while p < HW {
                        let end = min(HW, p + floatRun)
                        run.initialize(repeating: 0, count: C)
                        for q in p..<end {
                            let row = xn + q * C
                            var c = 0
                            while c + 8 <= C {
                                run.storeSIMD8(run.simd8(at: c) + row.simd8(at: c), at: c)
                                c += 8
                            }
                            while c < C { run[c] += row[c]; c += 1 }
                        }
                        for c in 0..<C { total[c] += Double(run[c]) }
                        p = end
                    }
                    for c in 0..<C { on[c] = Float(total[c] / Double(HW)) }
                }
            }
        }
    }

    /// dx[N, H, W, C] += dout[N, C] / HW at every one of an image's HW = H * W pixels: each
    /// pixel's share of its image's mean. Parallel over images.
    public static func backward(
        _ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, N: Int, HW: Int, C: Int
    ) {
        precondition(N > 0 && HW > 0 && C > 0, "Pooling sizes must be positive")
        Parallel.forEach(N) { n in
            let dxn = dx + n * HW * C, dn = dout + n * C
            withUnsafeTemporaryAllocation(of: Float.self, capacity: C) { shareBuffer in
                let share = shareBuffer.baseAddress!
                // Divided in Double and rounded once, as the twin divides.
                for c in 0..<C { share[c] = Float(Double(dn[c]) / Double(HW)) }
                for p in 0..<HW {
                    let row = dxn + p * C
                    var c = 0
                    while c + 8 <= C {
                        row.storeSIMD8(row.simd8(at: c) + share.simd8(at: c), at: c)
                        c += 8
                    }
                    while c < C { row[c] += share[c]; c += 1 }
                }
            }
        }
    }

    /// The naive twin of `forward`, in Double: out[N, C] = mean over HW of x[N, HW, C].
    public static func forwardNaive(
        _ out: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, N: Int, HW: Int, C: Int
    ) {
        for n in 0..<N {
            for c in 0..<C {
                var sum = 0.0
                for p in 0..<HW { sum += x[(n * HW + p) * C + c] }
                out[n * C + c] = sum / Double(HW)
            }
        }
    }

    /// The naive twin of `backward`, in Double: dx[N, HW, C] += dout[N, C] / HW.
    public static func backwardNaive(
        _ dx: UnsafeMutablePointer<Double>, _ dout: UnsafePointer<Double>, N: Int, HW: Int, C: Int
    ) {
        for n in 0..<N {
            for p in 0..<HW {
                for c in 0..<C { dx[(n * HW + p) * C + c] += dout[n * C + c] / Double(HW) }
            }
        }
    }
}
