// The continuous cosine noise schedule and the per-channel normalizer of docs/model.md.
import Foundation

/// Diffusion time t in [0, 1] -> (noise rate, signal rate): the angle runs linearly from
/// acos(maxSignalRate) at t = 0 to acos(minSignalRate) at t = 1; signal = cos, noise = sin.
public struct CosineSchedule: Equatable, Codable, Sendable {
    public var minSignalRate: Double
    public var maxSignalRate: Double

    public init(minSignalRate: Double = 0.01, maxSignalRate: Double = 0.95) {
        self.minSignalRate = minSignalRate
        self.maxSignalRate = maxSignalRate
    }

    public func rates(_ t: Double) -> (noise: Double, signal: Double) {
        let start = acos(maxSignalRate), end = acos(minSignalRate)
        let angle = start + t * (end - start)
        return (sin(angle), cos(angle))
    }
}

/// Per-channel mean and variance of the training images in [0, 1], computed once over the
/// whole set and saved with the model. normalize(x) = (x - mean) / max(sqrt(var), 1e-7);
/// denormalize(y) = clip(mean + y sqrt(var), 0, 1).
public struct Normalizer: Equatable, Codable, Sendable {
    public var mean: [Float]
    public var variance: [Float]

    public init(mean: [Float] = [0, 0, 0], variance: [Float] = [1, 1, 1]) {
        precondition(mean.count == 3 && variance.count == 3, "the normalizer has three channels")
        self.mean = mean
        self.variance = variance
    }

    /// Accumulates per-channel sums (in Double) over images of RGB bytes; `finish` divides.
    public struct Accumulator {
        var sum = [Double](repeating: 0, count: 3), sumSquares = [Double](repeating: 0, count: 3)
        var count = 0
        public init() {}
        /// Adds `pixels` RGB pixels given as bytes (values / 255).
        public mutating func add(_ rgb: UnsafePointer<UInt8>, pixels: Int) {
            var s = [UInt64](repeating: 0, count: 3), q = [UInt64](repeating: 0, count: 3)
            for p in 0..<pixels { for c in 0..<3 { let v = UInt64(rgb[p * 3 + c]); s[c] += v; q[c] += v * v } }
            for c in 0..<3 { sum[c] += Double(s[c]) / 255; sumSquares[c] += Double(q[c]) / (255 * 255) }
            count += pixels
        }
        /// The population mean and variance of everything added.
        public func finish() -> Normalizer {
            let n = Double(max(count, 1))
            let mean = sum.map { $0 / n }
            let variance = (0..<3).map { max(sumSquares[$0] / n - mean[$0] * mean[$0], 0) }
            return Normalizer(mean: mean.map(Float.init), variance: variance.map(Float.init))
        }
    }

    /// x [pixels, 3] in [0, 1] -> normalized, in place.
    public func normalize(_ x: UnsafeMutablePointer<Float>, pixels: Int) {
        let inv = variance.map { 1 / max($0.squareRoot(), 1e-7) }
        for p in 0..<pixels { for c in 0..<3 { x[p * 3 + c] = (x[p * 3 + c] - mean[c]) * inv[c] } }
    }

    /// y [pixels, 3] normalized -> [0, 1], in place.
    public func denormalize(_ y: UnsafeMutablePointer<Float>, pixels: Int) {
        let sd = variance.map { $0.squareRoot() }
        for p in 0..<pixels { for c in 0..<3 { y[p * 3 + c] = min(max(mean[c] + y[p * 3 + c] * sd[c], 0), 1) } }
    }
}
