// Group normalization over NHWC, with an optional swish before it (on its input) or after it
// (on its output), and optional channels that are constant over each image (the noise
// embedding) whose share of the group statistics is added analytically.
import Foundation

/// The shape of one GroupNorm: N images of HW pixels with C stored channels, followed by
/// `constantChannels` channels whose value is the same at every pixel of an image. Groups
/// take consecutive channels of the C + constantChannels.
/// out = output(GroupNorm(input(x))), with GroupNorm(s) = (s - mean) rstd gamma + beta.
public struct GroupNormShape: Equatable, Sendable {
    /// Images in the batch.
    public let N: Int
    /// Pixels per image (height x width): the rows of each image's [HW, C] block.
    public let HW: Int
    /// Channels stored per pixel in x and out (the innermost, contiguous dimension).
    public let C: Int
    /// Channels after the C stored ones whose value is the same at every pixel of an image,
    /// given once per image ([N, constantChannels]); 0 when there are none.
    public let constantChannels: Int
    /// Groups of consecutive channels normalized together; divides C + constantChannels.
    public let groups: Int
    /// Added to each group's variance before the square root.
    public let epsilon: Float
    /// The activation applied to x before the normalization.
    public let input: Activation
    /// The activation applied to the normalized, scaled and shifted result.
    public let output: Activation

    public init(
        N: Int, HW: Int, C: Int, constantChannels: Int = 0, groups: Int = 8, epsilon: Float = 1e-3,
        input: Activation = .identity, output: Activation = .identity
    ) {
        precondition(
            N > 0 && HW > 0 && C > 0 && constantChannels >= 0 && groups > 0, "GroupNorm sizes must be positive")
        precondition(
            (C + constantChannels) % groups == 0,
            "GroupNorm: \(C + constantChannels) channels do not divide into \(groups) groups")
        self.N = N; self.HW = HW; self.C = C; self.constantChannels = constantChannels; self.groups = groups
        self.epsilon = epsilon; self.input = input; self.output = output
    }

    /// Every channel, stored and constant.
    public var totalChannels: Int { C + constantChannels }
    var groupSize: Int { totalChannels / groups }
    /// Each image's pixels are cut into this many chunks (fewer for small images), whatever
    /// the thread count, and chunk sums are added in order: results never depend on the threads.
    var chunks: Int { max(1, min(16, HW / 256)) }
    var units: Int { N * chunks }
    func range(_ u: Int) -> (n: Int, p0: Int, p1: Int) {
        let n = u / chunks, k = u % chunks
        return (n, HW * k / chunks, HW * (k + 1) / chunks)
    }
}

/// Reusable memory of GroupNorm (`GroupNorm.scratchCount` Doubles for a shape).
public typealias GroupNormScratch = ScratchBuffer<Double>

public enum GroupNorm {
    /// Pixels summed in float before the sum is added to a Double accumulator.
    static let floatRun = 64

    /// Doubles of scratch `forward`, `apply` and `backward` need for a shape: two Double
    /// partial sums and two float runs per (unit, channel), four float coefficients per (image, channel).
    public static func scratchCount(_ s: GroupNormShape) -> Int {
        s.units * s.C * 3 + s.N * s.totalChannels * 2
    }

    /// acc1[c] += sum over pixels p0..<p1 of f(p * C + c).0, acc2[c] += ... .1, for the C stored
    /// channels, in runs of `floatRun` pixels summed in float (SIMD8 when C is a multiple of 8),
    /// then in Double. `run` holds 2 C floats.
    @inline(__always)
    static func channelSums(
        _ acc1: UnsafeMutablePointer<Double>, _ acc2: UnsafeMutablePointer<Double>, _ run: UnsafeMutablePointer<Float>,
        C: Int, p0: Int, p1: Int,
        _ f: (Int) -> (SIMD8<Float>, SIMD8<Float>), _ fScalar: (Int) -> (Float, Float)
    ) {
        var p = p0
        while p < p1 {
            let end = min(p1, p + floatRun)
            run.initialize(repeating: 0, count: 2 * C)
            if C % 8 == 0 {
                for q in p..<end {
                    var c = 0
                    while c < C {
                        let (a, b) = f(q * C + c)
                        run.storeSIMD8(run.simd8(at: c) + a, at: c)
                        run.storeSIMD8(run.simd8(at: C + c) + b, at: C + c)
                        c += 8
                    }
                }
            } else {
                for q in p..<end { for c in 0..<C { let (a, b) = fScalar(q * C + c); run[c] += a; run[C + c] += b } }
            }
            for c in 0..<C { acc1[c] += Double(run[c]); acc2[c] += Double(run[C + c]) }
            p = end
        }
    }

    /// Per image and channel: sums[n, c] = the chunk sums of stored channels added in order.
    static func reduceChunks(_ partial: UnsafePointer<Double>, _ s: GroupNormShape, n: Int, c: Int) -> Double {
        var v = 0.0
        for k in 0..<s.chunks { v += partial[(n * s.chunks + k) * s.C + c] }
        return v
    }

    /// Scratch regions: partial sums [units][C] twice (Double), float runs [units][C], and per
    /// image and channel four Float coefficient planes (center, rstd, a, b).
    struct Layout {
        let p1, p2: UnsafeMutablePointer<Double>
        let runs: UnsafeMutablePointer<Float>
        let center, rs, a, b: UnsafeMutablePointer<Float>
        init(_ scratch: GroupNormScratch, _ s: GroupNormShape) {
            let base = scratch.elements(GroupNorm.scratchCount(s))
            let uc = s.units * s.C, nc = s.N * s.totalChannels
            p1 = base; p2 = base + uc
            runs = UnsafeMutableRawPointer(base + 2 * uc).bindMemory(to: Float.self, capacity: 2 * uc)
            let f = UnsafeMutableRawPointer(base + 3 * uc).bindMemory(to: Float.self, capacity: 4 * nc)
            center = f; rs = f + nc; a = f + 2 * nc; b = f + 3 * nc
        }

        /// center[n, c] = mean of c's group, rs[n, c] = its rstd (times gamma[c] when given).
        func spread(
            _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?,
            _ s: GroupNormShape
        ) {
            let (Ct, G, cg) = (s.totalChannels, s.groups, s.groupSize)
            for n in 0..<s.N {
                for c in 0..<Ct {
                    center[n * Ct + c] = mean[n * G + c / cg]
                    rs[n * Ct + c] = rstd[n * G + c / cg] * (gamma?[c] ?? 1)
                }
            }
        }
    }

    /// out[N, HW, C] = output((input(x) - mean) rstd gamma + beta), per image n and group of
    /// (C + constantChannels) / groups consecutive channels; the constant channels' outputs go
    /// to `constantOut` [N, constantChannels] (values from `constants` [N, constantChannels]).
    /// Saves mean and rstd ([N, groups]) for the backward pass. Two passes: the statistics, as
    /// sums of deviations from each channel's value at the image's first pixel (a shift that
    /// keeps E[d^2] - E[d]^2 from canceling), then the output; with a swish on the input, the
    /// first pass also writes it to `out`, so the exponential is computed once. out != x.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, constantOut: UnsafeMutablePointer<Float>? = nil,
        _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>,
        _ x: UnsafePointer<Float>, constants: UnsafePointer<Float>? = nil,
        _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ s: GroupNormShape, scratch: GroupNormScratch
    ) {
        precondition(
            s.constantChannels == 0 || (constants != nil && constantOut != nil),
            "GroupNorm: constant channels need their values and outputs")
        precondition(UnsafePointer(out) != x, "GroupNorm.forward: out must not be x")
        let (C, Cc, Ct, G, cg, HW) = (s.C, s.constantChannels, s.totalChannels, s.groups, s.groupSize, s.HW)
        let L = Layout(scratch, s)
        let pre = s.input
        // With a swish on the input and no constants, pass 1 stores swish(x) in `out`.
        let stores = pre == .swish && Cc == 0
        for n in 0..<s.N { for c in 0..<C { L.a[n * Ct + c] = pre(x[n * HW * C + c]) } }
        Parallel.forEach(s.units) { u in
            let (n, p0, p1) = s.range(u)
            (L.p1 + u * C).initialize(repeating: 0, count: C)
            (L.p2 + u * C).initialize(repeating: 0, count: C)
            let xn = x + n * HW * C, on = out + n * HW * C, kn = UnsafePointer(L.a + n * Ct)
            channelSums(
                L.p1 + u * C, L.p2 + u * C, L.runs + u * 2 * C, C: C, p0: p0, p1: p1,
                { i in
                    let v = pre(xn.simd8(at: i))
                    if stores { on.storeSIMD8(v, at: i) }
                    let d = v - kn.simd8(at: i % C)
                    return (d, d * d)
                },
                { i in
                    let v = pre(xn[i])
                    if stores { on[i] = v }
                    let d = v - kn[i % C]
                    return (d, d * d)
                })
        }
        for n in 0..<s.N {
            for g in 0..<G {
                let channels = (g * cg)..<((g + 1) * cg)
                var sum = 0.0
                for c in channels {
                    sum +=
                        c < C
                        ? reduceChunks(L.p1, s, n: n, c: c) + Double(HW) * Double(L.a[n * Ct + c])
                        : Double(HW) * Double(pre(constants![n * Cc + c - C]))
                }
                let mu = sum / Double(HW * cg)
                // sum (v - mu)^2 = sum (d + k - mu)^2 = S2 + 2 (k - mu) S1 + HW (k - mu)^2 per channel.
                var squares = 0.0
                for c in channels {
                    if c < C {
                        let k = Double(L.a[n * Ct + c]) - mu
                        squares +=
                            reduceChunks(L.p2, s, n: n, c: c) + 2 * k * reduceChunks(L.p1, s, n: n, c: c) + Double(HW)
                            * k * k
                    } else {
                        let d = Double(pre(constants![n * Cc + c - C])) - mu
                        squares += Double(HW) * d * d
                    }
                }
                mean[n * G + g] = Float(mu)
                rstd[n * G + g] = Float(1 / (max(squares, 0) / Double(HW * cg) + Double(s.epsilon)).squareRoot())
            }
        }
        if stores {
            let stored = GroupNormShape(
                N: s.N, HW: HW, C: C, groups: G, epsilon: s.epsilon, input: .identity, output: s.output)
            apply(out, UnsafePointer(out), mean, rstd, gamma, beta, stored, scratch: scratch)
        } else {
            apply(out, constantOut: constantOut, x, constants: constants, mean, rstd, gamma, beta, s, scratch: scratch)
        }
    }

    /// The last pass of `forward` alone, with saved statistics: recomputes the output in the
    /// backward pass instead of keeping it. (x - mean) comes first: folding the mean into a
    /// shift would cancel at |x| rstd. out may be x.
    public static func apply(
        _ out: UnsafeMutablePointer<Float>, constantOut: UnsafeMutablePointer<Float>? = nil,
        _ x: UnsafePointer<Float>, constants: UnsafePointer<Float>? = nil,
        _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
        _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ s: GroupNormShape, scratch: GroupNormScratch
    ) {
        let (C, Cc, Ct, HW) = (s.C, s.constantChannels, s.totalChannels, s.HW)
        let L = Layout(scratch, s)
        let (pre, post) = (s.input, s.output)
        // center and scale = rstd gamma per image and channel.
        L.spread(mean, rstd, gamma: gamma, s)
        for n in 0..<s.N {
            for c in C..<Ct {
                let v = (pre(constants![n * Cc + c - C]) - L.center[n * Ct + c]) * L.rs[n * Ct + c] + beta[c]
                constantOut![n * Cc + c - C] = post(v)
            }
        }
        Parallel.forEach(s.units) { u in
            let (n, p0, p1) = s.range(u)
            let xn = x + n * HW * C, on = out + n * HW * C
            let cn = UnsafePointer(L.center + n * Ct), sn = UnsafePointer(L.rs + n * Ct)
            if C % 8 == 0 {
                for p in p0..<p1 {
                    var c = 0
                    while c < C {
                        let v = post(
                            (pre(xn.simd8(at: p * C + c)) - cn.simd8(at: c)) * sn.simd8(at: c) + beta.simd8(at: c))
                        on.storeSIMD8(v, at: p * C + c)
                        c += 8
                    }
                }
            } else {
                for p in p0..<p1 {
                    for c in 0..<C { on[p * C + c] = post((pre(xn[p * C + c]) - cn[c]) * sn[c] + beta[c]) }
                }
            }
        }
    }

    /// dx += the gradient through output(GroupNorm(input(x))); dgamma, dbeta += per-channel sums.
    /// With s = input(x), xhat = (s - mean) rstd, y = xhat gamma + beta, dy = dout output'(y) and
    /// g = dy gamma, per (n, group): ds = rstd (g - mean(g) - xhat mean(g xhat)), dx = ds input'(x).
    /// `dconstantOut` [N, constantChannels] is the gradient of `constantOut`, summed over pixels
    /// (the constant was used at every pixel); the constant inputs themselves get no gradient
    /// (the embedding they come from has no parameters).
    public static func backward(
        _ dx: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>, _ dbeta: UnsafeMutablePointer<Float>,
        _ dout: UnsafePointer<Float>, dconstantOut: UnsafePointer<Float>? = nil,
        _ x: UnsafePointer<Float>, constants: UnsafePointer<Float>? = nil,
        _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
        _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>, _ s: GroupNormShape, scratch: GroupNormScratch
    ) {
        let (C, Cc, Ct, G, cg, HW) = (s.C, s.constantChannels, s.totalChannels, s.groups, s.groupSize, s.HW)
        let L = Layout(scratch, s)
        let (pre, post) = (s.input, s.output)
        L.spread(mean, rstd, gamma: nil, s)
        Parallel.forEach(s.units) { u in
            let (n, p0, p1) = s.range(u)
            let xn = x + n * HW * C, dn = dout + n * HW * C
            let cn = UnsafePointer(L.center + n * Ct), rn = UnsafePointer(L.rs + n * Ct)
            (L.p1 + u * C).initialize(repeating: 0, count: C)
            (L.p2 + u * C).initialize(repeating: 0, count: C)
            @inline(__always) func dyXhat(_ i: Int) -> (SIMD8<Float>, SIMD8<Float>) {
                let c = i % C
                let xhat = (pre(xn.simd8(at: i)) - cn.simd8(at: c)) * rn.simd8(at: c)
                return (dn.simd8(at: i) * post.derivative(xhat * gamma.simd8(at: c) + beta.simd8(at: c)), xhat)
            }
            @inline(__always) func dyXhatScalar(_ i: Int) -> (Float, Float) {
                let c = i % C
                let xhat = (pre(xn[i]) - cn[c]) * rn[c]
                return (dn[i] * post.derivative(xhat * gamma[c] + beta[c]), xhat)
            }
            channelSums(
                L.p1 + u * C, L.p2 + u * C, L.runs + u * 2 * C, C: C, p0: p0, p1: p1,
                {
                    let (dy, xhat) = dyXhat($0); return (dy, dy * xhat)
                },
                {
                    let (dy, xhat) = dyXhatScalar($0); return (dy, dy * xhat)
                })
        }
        // Per image and channel: S1 = sum dy, S2 = sum dy xhat (constants: the pixel-summed dy).
        // Per group: a = mean(g), b = mean(g xhat); per channel: dgamma += S2, dbeta += S1.
        var dg = [Double](repeating: 0, count: Ct), db = dg
        for n in 0..<s.N {
            for g in 0..<G {
                var m1 = 0.0, m2 = 0.0
                for c in (g * cg)..<((g + 1) * cg) {
                    var s1 = 0.0, s2 = 0.0
                    if c < C {
                        s1 = reduceChunks(L.p1, s, n: n, c: c); s2 = reduceChunks(L.p2, s, n: n, c: c)
                    } else if let dconstantOut {
                        let xhat = (pre(constants![n * Cc + c - C]) - L.center[n * Ct + c]) * L.rs[n * Ct + c]
                        let dy = dconstantOut[n * Cc + c - C] * post.derivative(xhat * gamma[c] + beta[c])
                        s1 = Double(dy); s2 = Double(dy * xhat)
                    }
                    m1 += s1 * Double(gamma[c]); m2 += s2 * Double(gamma[c])
                    db[c] += s1; dg[c] += s2
                }
                for c in (g * cg)..<((g + 1) * cg) {
                    L.a[n * Ct + c] = Float(m1 / Double(HW * cg))
                    L.b[n * Ct + c] = Float(m2 / Double(HW * cg))
                }
            }
        }
        for c in 0..<Ct { dgamma[c] += Float(dg[c]); dbeta[c] += Float(db[c]) }
        Parallel.forEach(s.units) { u in
            let (n, p0, p1) = s.range(u)
            let xn = x + n * HW * C, dn = dout + n * HW * C, dxn = dx + n * HW * C
            let cn = UnsafePointer(L.center + n * Ct), rn = UnsafePointer(L.rs + n * Ct)
            let an = UnsafePointer(L.a + n * Ct), bn = UnsafePointer(L.b + n * Ct)
            if C % 8 == 0 {
                for p in p0..<p1 {
                    var c = 0
                    while c < C {
                        let i = p * C + c
                        let xv = xn.simd8(at: i), r = rn.simd8(at: c), gm = gamma.simd8(at: c)
                        let xhat = (pre(xv) - cn.simd8(at: c)) * r
                        let dy = dn.simd8(at: i) * post.derivative(xhat * gm + beta.simd8(at: c))
                        let v = pre.derivative(xv) * r * (dy * gm - an.simd8(at: c) - xhat * bn.simd8(at: c))
                        dxn.storeSIMD8(dxn.simd8(at: i) + v, at: i)
                        c += 8
                    }
                }
            } else {
                for p in p0..<p1 {
                    for c in 0..<C {
                        let i = p * C + c
                        let xhat = (pre(xn[i]) - cn[c]) * rn[c]
                        let dy = dn[i] * post.derivative(xhat * gamma[c] + beta[c])
                        dxn[i] += pre.derivative(xn[i]) * rn[c] * (dy * gamma[c] - an[c] - xhat * bn[c])
                    }
                }
            }
        }
    }

    /// The naive twin of `forward`: the definition in Double, one group at a time, over a fully
    /// materialized input x [N, HW, C + constantChannels] (constants written at every pixel).
    public static func forwardNaive(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>,
        _ beta: UnsafePointer<Float>,
        N: Int, HW: Int, C: Int, groups G: Int, epsilon: Float = 1e-3,
        input: Activation = .identity, output: Activation = .identity
    ) {
        let cg = C / G
        func act(_ a: Activation, _ v: Double) -> Double { a == .swish ? v / (1 + Foundation.exp(-v)) : v }
        for n in 0..<N {
            for g in 0..<G {
                var values: [Double] = []
                for p in 0..<HW {
                    for c in (g * cg)..<((g + 1) * cg) { values.append(act(input, Double(x[(n * HW + p) * C + c]))) }
                }
                let m = values.reduce(0, +) / Double(values.count)
                let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
                for p in 0..<HW {
                    for c in (g * cg)..<((g + 1) * cg) {
                        let i = (n * HW + p) * C + c
                        out[i] = Float(
                            act(
                                output,
                                (act(input, Double(x[i])) - m) / (v + Double(epsilon)).squareRoot() * Double(gamma[c])
                                    + Double(beta[c])))
                    }
                }
            }
        }
    }
}
