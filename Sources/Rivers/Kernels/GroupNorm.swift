// Group normalisation over NHWC: statistics per (image, group) over H*W*C/G values.
import Foundation

/// Reusable memory of GroupNorm: per-chunk partial sums and per-channel coefficients.
public typealias GroupNormScratch = ScratchBuffer<Double>

public enum GroupNorm {
    /// Each image's pixels are cut into this many chunks (fewer for small images), whatever the
    /// thread count, and chunk sums are added in order: results never depend on the threads.
    static let chunksPerImage = 16
    /// Pixels summed in float before the sum is added to a Double accumulator.
    static let floatRun = 64

    static func chunkCount(_ HW: Int) -> Int { max(1, min(chunksPerImage, HW / 256)) }

    /// acc[c] += sum over pixels p0..<p1 of f(x[p, c], c), in runs of `floatRun` pixels summed in
    /// float (SIMD8 when C is a multiple of 8), then added to the Double accumulators.
    @inline(__always)
    static func channelSums(_ acc: UnsafeMutablePointer<Double>, _ run: UnsafeMutablePointer<Float>, C: Int, p0: Int, p1: Int,
                            _ f: (SIMD8<Float>, Int) -> SIMD8<Float>, _ fScalar: (Float, Int) -> Float) {
        var p = p0
        while p < p1 {
            let end = min(p1, p + floatRun)
            run.initialize(repeating: 0, count: C)
            if C % 8 == 0 {
                let r = UnsafeMutableRawPointer(run)
                for q in p..<end {
                    var c = 0
                    while c < C {
                        let s = r.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self) + f(SIMD8<Float>(repeating: 0), q * C + c)
                        r.storeBytes(of: s, toByteOffset: c * 4, as: SIMD8<Float>.self)
                        c += 8
                    }
                }
            } else {
                for q in p..<end { for c in 0..<C { run[c] += fScalar(0, q * C + c) } }
            }
            for c in 0..<C { acc[c] += Double(run[c]) }
            p = end
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// out = (x - mean) * rstd * gamma[c] + beta[c], rstd = 1 / sqrt(var + eps), per image n and
    /// group g of C/G consecutive channels. Saves mean and rstd ([N, G]) for the backward pass.
    /// The variance is taken about the mean in a second pass, so it does not cancel.
    /// Shapes: out, x [N, HW, C]; gamma, beta [C]; mean, rstd [N, G].
    /// Pass the same `scratch` on every call of a layer: the default makes a new one (and
    /// allocates) each time.
    public static func forward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
                               _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                               N: Int, HW: Int, C: Int, groups G: Int, epsilon: Float = 1e-3, scratch: GroupNormScratch = GroupNormScratch()) {
        precondition(C % G == 0, "GroupNorm: \(C) channels do not divide into \(G) groups")
        let cg = C / G, chunks = chunkCount(HW), units = N * chunks
        // Layout: partial sums [units][C] Double, then float runs [units][C], then the
        // per-image centre and scale [N][C] (as Float pairs in Double slots).
        let partial = scratch.elements(units * C * 2 + N * C * 2)
        let runs = UnsafeMutableRawPointer(partial + units * C).bindMemory(to: Float.self, capacity: units * C * 2)
        let coefficients = UnsafeMutableRawPointer(partial + units * C * 2).bindMemory(to: Float.self, capacity: N * C * 4)
        let centre = coefficients, scale = coefficients + N * C
        func range(_ u: Int) -> (n: Int, p0: Int, p1: Int) {
            let n = u / chunks, k = u % chunks
            return (n, HW * k / chunks, HW * (k + 1) / chunks)
        }
        // Pass 1: channel sums -> group means.
        Parallel.forEach(units) { u in
            let (n, p0, p1) = range(u)
            let acc = partial + u * C
            acc.initialize(repeating: 0, count: C)
            let xn = x + n * HW * C
            channelSums(acc, runs + u * C, C: C, p0: p0, p1: p1, { _, i in load(xn, i) }, { _, i in xn[i] })
        }
        for n in 0..<N {
            for g in 0..<G {
                var s = 0.0
                for k in 0..<chunks { for c in (g * cg)..<((g + 1) * cg) { s += partial[(n * chunks + k) * C + c] } }
                let mu = Float(s / Double(HW * cg))
                mean[n * G + g] = mu
                for c in (g * cg)..<((g + 1) * cg) { centre[n * C + c] = mu }
            }
        }
        // Pass 2: squared deviations about the mean -> group variances.
        Parallel.forEach(units) { u in
            let (n, p0, p1) = range(u)
            let acc = partial + u * C
            acc.initialize(repeating: 0, count: C)
            let xn = x + n * HW * C, cn = UnsafePointer(centre + n * C)
            channelSums(acc, runs + u * C, C: C, p0: p0, p1: p1, { _, i in let d = load(xn, i) - load(cn, i % C); return d * d },
                        { _, i in let d = xn[i] - cn[i % C]; return d * d })
        }
        for n in 0..<N {
            for g in 0..<G {
                var s = 0.0
                for k in 0..<chunks { for c in (g * cg)..<((g + 1) * cg) { s += partial[(n * chunks + k) * C + c] } }
                let r = Float(1 / (s / Double(HW * cg) + Double(epsilon)).squareRoot())
                rstd[n * G + g] = r
                for c in (g * cg)..<((g + 1) * cg) { scale[n * C + c] = r * gamma[c] }
            }
        }
        // Pass 3: (x - mean) first: folding the mean into a shift would cancel at |x| * rstd.
        Parallel.forEach(units) { u in
            let (n, p0, p1) = range(u)
            let xn = x + n * HW * C, on = out + n * HW * C
            let cn = UnsafePointer(centre + n * C), sn = UnsafePointer(scale + n * C)
            if C % 8 == 0 {
                for p in p0..<p1 {
                    var c = 0
                    while c < C {
                        let v = (load(xn, p * C + c) - load(cn, c)) * load(sn, c) + load(beta, c)
                        UnsafeMutableRawPointer(on + p * C + c).storeBytes(of: v, as: SIMD8<Float>.self)
                        c += 8
                    }
                }
            } else {
                for p in p0..<p1 { for c in 0..<C { on[p * C + c] = (xn[p * C + c] - cn[c]) * sn[c] + beta[c] } }
            }
        }
    }

    /// dx (+)= the gradient through the normalisation; dgamma, dbeta (+)= per-channel sums.
    /// With xhat = (x - mean) rstd and g = dout * gamma, per (n, group):
    /// dx = rstd (g - mean(g) - xhat mean(g xhat)).
    public static func backward(_ dx: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
                                _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                                _ gamma: UnsafePointer<Float>, N: Int, HW: Int, C: Int, groups G: Int, accumulate: Bool = false,
                                scratch: GroupNormScratch = GroupNormScratch()) {
        let cg = C / G, chunks = chunkCount(HW), units = N * chunks
        // Layout: sums of dout [units][C], sums of dout * xhat [units][C] (Double), float runs
        // [units][C], then per-image centre, rstd, a, b per channel (Float).
        let sDy = scratch.elements(units * C * 3 + N * C * 2)
        let sDyXhat = sDy + units * C
        let runs = UnsafeMutableRawPointer(sDy + 2 * units * C).bindMemory(to: Float.self, capacity: units * C * 2)
        let coefficients = UnsafeMutableRawPointer(sDy + 3 * units * C).bindMemory(to: Float.self, capacity: N * C * 4)
        let centre = coefficients, rs = coefficients + N * C, a = coefficients + 2 * N * C, b = coefficients + 3 * N * C
        for n in 0..<N { for c in 0..<C { centre[n * C + c] = mean[n * G + c / cg]; rs[n * C + c] = rstd[n * G + c / cg] } }
        func range(_ u: Int) -> (n: Int, p0: Int, p1: Int) {
            let n = u / chunks, k = u % chunks
            return (n, HW * k / chunks, HW * (k + 1) / chunks)
        }
        Parallel.forEach(units) { u in
            let (n, p0, p1) = range(u)
            let xn = x + n * HW * C, dn = dout + n * HW * C
            let cn = UnsafePointer(centre + n * C), rn = UnsafePointer(rs + n * C)
            (sDy + u * C).initialize(repeating: 0, count: C)
            (sDyXhat + u * C).initialize(repeating: 0, count: C)
            channelSums(sDy + u * C, runs + u * C, C: C, p0: p0, p1: p1, { _, i in load(dn, i) }, { _, i in dn[i] })
            channelSums(sDyXhat + u * C, runs + u * C, C: C, p0: p0, p1: p1,
                        { _, i in load(dn, i) * (load(xn, i) - load(cn, i % C)) * load(rn, i % C) },
                        { _, i in dn[i] * (xn[i] - cn[i % C]) * rn[i % C] })
        }
        // Per image and group: a = mean(g), b = mean(g xhat); per channel: dgamma, dbeta.
        for n in 0..<N {
            for g in 0..<G {
                var m1 = 0.0, m2 = 0.0
                for c in (g * cg)..<((g + 1) * cg) {
                    var s1 = 0.0, s2 = 0.0
                    for k in 0..<chunks { s1 += sDy[(n * chunks + k) * C + c]; s2 += sDyXhat[(n * chunks + k) * C + c] }
                    m1 += s1 * Double(gamma[c]); m2 += s2 * Double(gamma[c])
                }
                for c in (g * cg)..<((g + 1) * cg) {
                    a[n * C + c] = Float(m1 / Double(HW * cg))
                    b[n * C + c] = Float(m2 / Double(HW * cg))
                }
            }
        }
        for c in 0..<C {
            var dg = 0.0, db = 0.0
            for u in 0..<units { db += sDy[u * C + c]; dg += sDyXhat[u * C + c] }
            dgamma[c] = (accumulate ? dgamma[c] : 0) + Float(dg)
            dbeta[c] = (accumulate ? dbeta[c] : 0) + Float(db)
        }
        Parallel.forEach(units) { u in
            let (n, p0, p1) = range(u)
            let xn = x + n * HW * C, dn = dout + n * HW * C, dxn = dx + n * HW * C
            let cn = UnsafePointer(centre + n * C), rn = UnsafePointer(rs + n * C), an = UnsafePointer(a + n * C), bn = UnsafePointer(b + n * C)
            if C % 8 == 0 {
                for p in p0..<p1 {
                    var c = 0
                    while c < C {
                        let r = load(rn, c)
                        let xhat = (load(xn, p * C + c) - load(cn, c)) * r
                        var v = r * (load(dn, p * C + c) * load(gamma, c) - load(an, c) - xhat * load(bn, c))
                        let dst = UnsafeMutableRawPointer(dxn + p * C + c)
                        if accumulate { v += dst.loadUnaligned(as: SIMD8<Float>.self) }
                        dst.storeBytes(of: v, as: SIMD8<Float>.self)
                        c += 8
                    }
                }
            } else {
                for p in p0..<p1 {
                    for c in 0..<C {
                        let xhat = (xn[p * C + c] - cn[c]) * rn[c]
                        let v = rn[c] * (dn[p * C + c] * gamma[c] - an[c] - xhat * bn[c])
                        dxn[p * C + c] = accumulate ? dxn[p * C + c] + v : v
                    }
                }
            }
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
