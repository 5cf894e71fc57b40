// Group normalisation over NHWC: statistics per (image, group) over H*W*C/G values.
import Foundation

public enum GroupNorm {
    /// out = (x - mean) * rstd * gamma[c] + beta[c], rstd = 1 / sqrt(var + eps), per image n and
    /// group g of C/G consecutive channels. Saves mean and rstd ([N, G]) for the backward pass.
    /// Sums run in Double per channel, then per group, so the variance does not cancel.
    /// Shapes: out, x [N, HW, C]; gamma, beta [C]; mean, rstd [N, G].
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                               _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                               N: Int, HW: Int, C: Int, groups G: Int, epsilon: Float = 1e-3) {
        precondition(C % G == 0, "GroupNorm: \(C) channels do not divide into \(G) groups")
        let cg = C / G
        Parallel.forEach(N) { n in
            let xn = x + n * HW * C
            var sum = [Double](repeating: 0, count: C)
            for p in 0..<HW { for c in 0..<C { sum[c] += Double(xn[p * C + c]) } }
            var mu = [Double](repeating: 0, count: G)
            for g in 0..<G { for c in 0..<cg { mu[g] += sum[g * cg + c] }; mu[g] /= Double(HW * cg) }
            // Second pass about the mean: no cancellation in the variance.
            var sq = [Double](repeating: 0, count: C)
            for p in 0..<HW { for c in 0..<C { let d = Double(xn[p * C + c]) - mu[c / cg]; sq[c] += d * d } }
            var scale = [Float](repeating: 0, count: C), centre = [Float](repeating: 0, count: C)
            for g in 0..<G {
                var v = 0.0
                for c in 0..<cg { v += sq[g * cg + c] }
                let r = 1 / (v / Double(HW * cg) + Double(epsilon)).squareRoot()
                mean[n * G + g] = Float(mu[g])
                rstd[n * G + g] = Float(r)
                for c in (g * cg)..<((g + 1) * cg) {
                    scale[c] = Float(r) * gamma[c]
                    centre[c] = Float(mu[g])
                }
            }
            let on = out + n * HW * C
            // (x - mean) first: folding the mean into a shift would cancel at |x| * rstd.
            for p in 0..<HW { for c in 0..<C { on[p * C + c] = (xn[p * C + c] - centre[c]) * scale[c] + beta[c] } }
        }
    }

    /// dx (+)= the gradient through the normalisation; dgamma, dbeta (+)= per-channel sums.
    /// With xhat = (x - mean) rstd and g = dout * gamma, per (n, group):
    /// dx = rstd (g - mean(g) - xhat mean(g xhat)).
    public static func backward(_ dx: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
                                _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                                _ gamma: UnsafePointer<Float>, N: Int, HW: Int, C: Int, groups G: Int, accumulate: Bool = false) {
        let cg = C / G
        // Per image: channel sums of dout and dout * xhat (Double), kept for dgamma/dbeta.
        var perImage = [[Double]](repeating: [], count: N)
        perImage.withUnsafeMutableBufferPointer { sums in
            Parallel.forEach(N) { n in
                let xn = x + n * HW * C, dn = dout + n * HW * C
                var sDy = [Double](repeating: 0, count: C), sDyXhat = [Double](repeating: 0, count: C)
                for p in 0..<HW {
                    for c in 0..<C {
                        let g = c / cg
                        let xhat = (xn[p * C + c] - mean[n * G + g]) * rstd[n * G + g]
                        let d = Double(dn[p * C + c])
                        sDy[c] += d
                        sDyXhat[c] += d * Double(xhat)
                    }
                }
                var a = [Float](repeating: 0, count: G), b = [Float](repeating: 0, count: G)
                for g in 0..<G {
                    var m1 = 0.0, m2 = 0.0
                    for c in (g * cg)..<((g + 1) * cg) { m1 += sDy[c] * Double(gamma[c]); m2 += sDyXhat[c] * Double(gamma[c]) }
                    a[g] = Float(m1 / Double(HW * cg))
                    b[g] = Float(m2 / Double(HW * cg))
                }
                let dxn = dx + n * HW * C
                for p in 0..<HW {
                    for c in 0..<C {
                        let g = c / cg, r = rstd[n * G + g]
                        let xhat = (xn[p * C + c] - mean[n * G + g]) * r
                        let v = r * (dn[p * C + c] * gamma[c] - a[g] - xhat * b[g])
                        dxn[p * C + c] = accumulate ? dxn[p * C + c] + v : v
                    }
                }
                sums[n] = sDy + sDyXhat
            }
        }
        for c in 0..<C {
            var dg = 0.0, db = 0.0
            for n in 0..<N { db += perImage[n][c]; dg += perImage[n][C + c] }
            dgamma[c] = (accumulate ? dgamma[c] : 0) + Float(dg)
            dbeta[c] = (accumulate ? dbeta[c] : 0) + Float(db)
        }
    }

    /// The naive twin of `forward`: the definition, in Double, one group at a time.
    public static func forwardNaive(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                                    N: Int, HW: Int, C: Int, groups G: Int, epsilon: Float = 1e-3) {
        let cg = C / G
        for n in 0..<N {
            for g in 0..<G {
                var values: [Double] = []
                for p in 0..<HW { for c in (g * cg)..<((g + 1) * cg) { values.append(Double(x[(n * HW + p) * C + c])) } }
                let m = values.reduce(0, +) / Double(values.count)
                let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
                for p in 0..<HW {
                    for c in (g * cg)..<((g + 1) * cg) {
                        let i = (n * HW + p) * C + c
                        out[i] = Float((Double(x[i]) - m) / (v + Double(epsilon)).squareRoot() * Double(gamma[c]) + Double(beta[c]))
                    }
                }
            }
        }
    }
}
