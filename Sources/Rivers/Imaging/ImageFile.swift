// Reading and writing image files: format by content, atomic no-overwrite writes.
import Foundation

public enum ImageFormat: Sendable {
    case jpeg
    case png

    /// The format for a file name's extension, or nil for a name that is not an image.
    public init?(pathExtension ext: String) {
        switch ext.lowercased() {
        case "jpg", "jpeg", "jpe": self = .jpeg
        case "png": self = .png
        default: return nil
        }
    }
}

/// The largest image accepted (in pixels): guards against a corrupt header asking for gigabytes.
let maximumImagePixels = 1 << 28

public enum ImageFile {
    /// True when the file name has an image extension (.jpg, .jpeg, .png, any case).
    public static func isImageName(_ name: String) -> Bool {
        ImageFormat(pathExtension: (name as NSString).pathExtension) != nil
    }

    /// Reads and decodes a JPEG or PNG file; the format is taken from the content, not the name.
    public static func read(_ path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                throw RiversError.file(
                    path: path,
                    reason: isDir.boolValue ? "is a folder, not an image" : "cannot be read (permission denied?)")
            }
            throw RiversError.file(path: path, reason: "no such file")
        }
        return try decode(data, path: path)
    }

    /// Decodes JPEG or PNG bytes; `path` only names the source in errors.
    public static func decode(_ data: Data, path: String) throws -> Image {
        if data.isEmpty { throw RiversError.file(path: path, reason: "empty file (0 bytes)") }
        let bytes = [UInt8](data.prefix(8))
        if bytes.count >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8 {
            return try JPEG.decode(data, path: path)
        }
        if bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            return try PNG.decode(data, path: path)
        }
        throw RiversError.file(path: path, reason: "not a JPEG or PNG image")
    }

    /// Encodes in the format the path's extension names (JPEG for anything but .png).
    public static func encode(_ image: Image, path: String, jpegQuality: Int = 95) throws -> Data {
        switch ImageFormat(pathExtension: (path as NSString).pathExtension) {
        case .png: return try PNG.encode(image, path: path)
        default: return try JPEG.encode(image, quality: jpegQuality, path: path)
        }
    }

    /// Encodes and writes atomically; refuses to replace an existing file.
    public static func write(_ image: Image, to path: String, jpegQuality: Int = 95) throws {
        try FileOps.writeNew(try encode(image, path: path, jpegQuality: jpegQuality), to: path)
    }
}
