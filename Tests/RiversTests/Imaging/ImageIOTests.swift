// JPEG and PNG reading and writing: round trips, every input kind, every bad file.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ImageIOTests: XCTestCase {
    func testPNGRoundTripIsExact() throws {
        let image = noiseImage(width: 37, height: 11)
        let decoded = try PNG.decode(try PNG.encode(image), path: "mem.png")
        XCTAssertEqual(decoded, image)
    }

    func testJPEGRoundTripWithinQualityTolerance() throws {
        // q95 with 4:2:0 chroma: the pattern's blue wave changes by up to 40 levels per row, so
        // averaging chroma over 2x2 blocks dominates the loss (35.6 dB measured with
        // libjpeg-turbo 2.1). 33 dB leaves margin for other libjpeg builds and still fails for
        // a color-conversion or channel-order error, which lands near 10-15 dB.
        let image = patternImage(width: 64, height: 40)
        let decoded = try JPEG.decode(try JPEG.encode(image, quality: 95), path: "mem.jpg")
        XCTAssertEqual(decoded.width, 64)
        XCTAssertEqual(decoded.height, 40)
        XCTAssertGreaterThan(psnr(decoded, image), 33)
    }

    func testProgressiveGreyAndCMYKJPEGBecomeRGB() throws {
        let w = 16, h = 8
        let gray = (0..<(w * h)).map { UInt8($0 * 2) }
        let g = try JPEG.decode(
            try JPEG.encode(samples: gray, width: w, height: h, components: 1, quality: 100, progressive: true),
            path: "g.jpg")
        // Quality 100 greyscale: DCT rounding only, within 2 levels.
        for i in 0..<(w * h) {
            XCTAssertEqual(g.pixels[3 * i], g.pixels[3 * i + 1])
            XCTAssertEqual(g.pixels[3 * i], g.pixels[3 * i + 2])
            XCTAssertLessThanOrEqual(abs(Int(g.pixels[3 * i]) - Int(gray[i])), 2)
        }
        // Adobe-inverted CMYK (255 = no ink): (255, 0, 255, 255) is magenta, R = C*K/255.
        let cmyk = [UInt8]((0..<(w * h)).flatMap { _ in [255, 0, 255, 255] as [UInt8] })
        let c = try JPEG.decode(
            try JPEG.encode(samples: cmyk, width: w, height: h, components: 4, quality: 100), path: "c.jpg")
        let center = (4 * w + 8) * 3
        XCTAssertGreaterThan(c.pixels[center], 250)
        XCTAssertLessThan(c.pixels[center + 1], 5)
        XCTAssertGreaterThan(c.pixels[center + 2], 250)
    }

    func testPNGColorTypesAndDepthsBecomeRGB() throws {
        // 8-bit gray
        var img = try PNG.decode(
            HandPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 0, rows: [[10, 200]]), path: "g.png")
        XCTAssertEqual(img.pixels, [10, 10, 10, 200, 200, 200])
        // gray + alpha: alpha dropped, not composited
        img = try PNG.decode(
            HandPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[10, 0, 200, 128]]), path: "ga.png")
        XCTAssertEqual(img.pixels, [10, 10, 10, 200, 200, 200])
        // palette with transparency
        img = try PNG.decode(
            HandPNG.make(
                width: 2, height: 1, bitDepth: 8, colorType: 3, rows: [[1, 0]],
                palette: [1, 2, 3, 40, 50, 60], transparency: [255, 0]), path: "p.png")
        XCTAssertEqual(img.pixels, [40, 50, 60, 1, 2, 3])
        // RGBA
        img = try PNG.decode(
            HandPNG.make(width: 1, height: 1, bitDepth: 8, colorType: 6, rows: [[7, 8, 9, 100]]), path: "a.png")
        XCTAssertEqual(img.pixels, [7, 8, 9])
        // 16-bit RGB: the high byte is the 8-bit value (65535 -> 255, 0x8080 -> 128)
        img = try PNG.decode(
            HandPNG.make(
                width: 2, height: 1, bitDepth: 16, colorType: 2,
                rows: [[255, 255, 0, 0, 0x80, 0x80, 0, 0, 255, 255, 0x80, 0x80]]), path: "16.png")
        XCTAssertEqual(img.pixels, [255, 0, 128, 0, 255, 128])
    }

    func testBadFilesGiveErrorsNamingThePath() throws {
        let dir = try makeTempDir(self)
        let good = try JPEG.encode(patternImage(width: 32, height: 32))
        let cases: [(String, Data?, String)] = [
            ("empty.jpg", Data(), "empty file"),
            ("truncated.jpg", good.prefix(good.count / 2), "premature end"),
            ("text.jpg", "hello, not an image".data(using: .utf8)!, "not a JPEG or PNG"),
            ("garbage.jpg", Data([0xFF, 0xD8] + [UInt8](repeating: 0x55, count: 64)), ""),
            ("truncated.png", try PNG.encode(noiseImage(width: 20, height: 20)).prefix(60), "beyond end of data"),
            ("missing.jpg", nil, "no such file"),
        ]
        for (name, data, reason) in cases {
            let path = dir + "/" + name
            if let data { writeFile(path, data) }
            assertFileError(try ImageFile.read(path), path: path, reason: reason)
        }
        assertFileError(try ImageFile.read(dir), path: dir, reason: "is a folder")
    }

    func testWriteNeverOverwritesAndLeavesNoTemporaryFiles() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/a.png"
        try ImageFile.write(noiseImage(width: 4, height: 4), to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try ImageFile.write(noiseImage(width: 4, height: 4, seed: 9), to: path)) { error in
            XCTAssertEqual(error as? RiversError, .exists(path: path))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.png"])
    }
}
