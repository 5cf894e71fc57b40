// The memorization check: how close each generated image is to its nearest training image.
import Foundation

/// The memorization check: how close each generated image is to its nearest training image.
public enum Memorization {
    /// Images are compared at this height (width from the aspect ratio), RGB in [0, 1].
    public static let compareHeight = 24
    /// A generated image whose root-mean-square distance to a training image is below this is
    /// flagged as a near copy. At 24 pixels high, the same photo re-encoded as a JPEG, or moved by
    /// a pixel or two, stays well below it (about 0.01-0.03); two photos of one site at different
    /// times differ by more (texture, light, water).
    public static let nearCopyThreshold: Float = 0.04

    /// A small copy of `image` for comparison: center crop to the aspect, area resize.
    public static func thumbnail(_ image: Image, height: Int, width: Int) -> [Float] {
        let h = compareHeight, w = max(1, Int((Double(compareHeight) * Double(width) / Double(height)).rounded()))
        let small = Geometry.resizeArea(
            Geometry.cropToAspectRatio(image, width: width, height: height), width: w, height: h)
        return small.pixels.map { Float($0) / 255 }
    }

    public struct Match: Sendable {
        public let generated: Int
        public let training: Int
        public let distance: Float
        public var nearCopy: Bool { distance < Memorization.nearCopyThreshold }
    }

    /// For each generated thumbnail, the nearest training thumbnail and their RMS distance.
    public static func nearest(_ generated: [[Float]], among training: [[Float]]) -> [Match] {
        generated.enumerated().map { g, a in
            var best = (index: -1, distance: Float.infinity)
            for (t, b) in training.enumerated() {
                var sum: Float = 0
                for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
                let distance = (sum / Float(max(a.count, 1))).squareRoot()
                if distance < best.distance { best = (t, distance) }
            }
            return Match(generated: g, training: best.index, distance: best.distance)
        }
    }
}
