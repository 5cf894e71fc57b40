// JPEG and PNG through the C shims; the only file that imports CJPEG and CPNG.
import CJPEG
import CPNG
import Foundation

private let messageLength = 256

/// Runs a C codec call that reports failure as 0 plus a message, and turns it into a throw.
private func callCodec(path: String, _ body: (UnsafeMutablePointer<CChar>, Int32) -> Int32) throws {
    var message = [CChar](repeating: 0, count: messageLength)
    let ok = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, Int32(messageLength)) }
    if ok == 0 {
        let reason = String(cString: message)
        throw RiversError.file(path: path, reason: reason.isEmpty ? "cannot be decoded" : reason)
    }
}

/// The C decoders' shape: (bytes, byte count, maximum pixels, out RGB, width, height, error, error length).
private typealias CDecoder = (
    UnsafePointer<UInt8>, Int, Int32, inout UnsafeMutablePointer<UInt8>?, inout Int32, inout Int32,
    UnsafeMutablePointer<CChar>, Int32
) -> Int32

/// Runs a C decoder over `data` and copies its malloc'ed RGB result into an Image.
private func decodeImage(_ data: Data, path: String, _ decoder: CDecoder) throws -> Image {
    var out: UnsafeMutablePointer<UInt8>? = nil
    var width: Int32 = 0, height: Int32 = 0
    try data.withUnsafeBytes { raw in
        let base = raw.bindMemory(to: UInt8.self).baseAddress!
        try callCodec(path: path) { err, len in
            decoder(base, raw.count, Int32(maximumImagePixels), &out, &width, &height, err, len)
        }
    }
    defer { free(out) }
    let count = Int(width) * Int(height) * 3
    return Image(width: Int(width), height: Int(height), pixels: Array(UnsafeBufferPointer(start: out, count: count)))
}

public enum JPEG {
    /// Decodes baseline or progressive JPEG; gray and CMYK are converted to RGB.
    public static func decode(_ data: Data, path: String) throws -> Image {
        try decodeImage(data, path: path) { rivers_jpeg_decode($0, UInt($1), $2, &$3, &$4, &$5, $6, $7) }
    }

    /// Encodes as baseline JPEG with 4:2:0 chroma subsampling; quality 1...100.
    public static func encode(_ image: Image, quality: Int = 95, path: String = "<memory>") throws -> Data {
        try encode(
            samples: image.pixels, width: image.width, height: image.height, components: 3, quality: quality, path: path
        )
    }

    /// Encodes raw interleaved samples: `components` 3 (RGB), 1 (gray) or 4 (Adobe CMYK),
    /// optionally progressive. The tool writes RGB; the other kinds exist to make test inputs.
    public static func encode(
        samples: [UInt8], width: Int, height: Int, components: Int, quality: Int = 95,
        progressive: Bool = false, path: String = "<memory>"
    ) throws -> Data {
        precondition(
            [1, 3, 4].contains(components) && samples.count == width * height * components,
            "sample buffer does not match the size")
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        try samples.withUnsafeBufferPointer { px in
            try callCodec(path: path) { err, len in
                rivers_jpeg_encode(
                    px.baseAddress, Int32(width), Int32(height), Int32(components), Int32(max(1, min(100, quality))),
                    progressive ? 1 : 0, &out, &size, err, len)
            }
        }
        defer { rivers_jpeg_free(out) }
        return Data(bytes: out!, count: Int(size))
    }
}

public enum PNG {
    /// Decodes any PNG color type and bit depth to 8-bit RGB (alpha dropped).
    public static func decode(_ data: Data, path: String) throws -> Image {
        try decodeImage(data, path: path) { rivers_png_decode($0, $1, $2, &$3, &$4, &$5, $6, $7) }
    }

    /// Encodes as 8-bit RGB PNG (lossless).
    public static func encode(_ image: Image, path: String = "<memory>") throws -> Data {
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        try image.pixels.withUnsafeBufferPointer { px in
            try callCodec(path: path) { err, len in
                rivers_png_encode(px.baseAddress, Int32(image.width), Int32(image.height), &out, &size, err, len)
            }
        }
        defer { rivers_png_free(out) }
        return Data(bytes: out!, count: size)
    }
}
