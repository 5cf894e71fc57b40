// The 8-bit RGB image every codec and geometry function works on.
import Foundation

/// An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B (HWC, 3 channels).
public struct Image: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image dimensions must be positive")
        precondition(
            pixels.count == width * height * 3, "pixel buffer is \(pixels.count) bytes, expected \(width * height * 3)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
    }

    /// The channel `c` of pixel (`x`, `y`).
    @inlinable public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * 3 + c] }
        set { pixels[(y * width + x) * 3 + c] = newValue }
    }
}
