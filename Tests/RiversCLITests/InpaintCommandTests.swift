// `rivers inpaint` through the executable.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class InpaintCommandTests: XCTestCase {
    func testInpaintCommand() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 4)
        let r = try runRivers([
            "train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--image_size", "8", "16", "--widths",
            "8", "16",
            "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2", "--num_epochs", "1",
            "--images_to_generate", "0", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        let run = root + "/models/" + (try FileManager.default.contentsOfDirectory(atPath: root + "/models").first!)
        let image = patternImage(width: 32, height: 16, seed: 5)
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        try ImageFile.write(image, to: root + "/images/S1_a.png")
        writeFile(
            root + "/masks-white/S1_a.png",
            try ImageFile.encode(
                Image(width: 32, height: 16, pixels: [UInt8](repeating: 255, count: 32 * 16 * 3)), path: "m.png"))
        let white = try runRivers([
            "inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-white", "--out_dir",
            root + "/out",
            "--generate_diffusion_steps", "4", "--jump_length", "2", "--jump_n_sample", "2", "--quiet",
        ])
        XCTAssertEqual(white.status, 0, white.err)
        // An all-white mask keeps every pixel: the output is the input through the JPEG encoder,
        // exactly the bytes of encoding the input itself.
        let out = try Data(contentsOf: URL(fileURLWithPath: root + "/out/S1_a_INPAINT.JPG"))
        XCTAssertEqual(out, try ImageFile.encode(image, path: "x.JPG"))
        // A half-black mask changes the masked half only.
        var half = [UInt8](repeating: 255, count: 32 * 16 * 3)
        for y in 0..<16 { for x in 16..<32 { for c in 0..<3 { half[(y * 32 + x) * 3 + c] = 0 } } }
        writeFile(
            root + "/masks-half/S1_a.png",
            try ImageFile.encode(Image(width: 32, height: 16, pixels: half), path: "m.png"))
        let filled = try runRivers([
            "inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-half", "--out_dir",
            root + "/out2",
            "--generate_diffusion_steps", "4", "--jump_length", "2", "--jump_n_sample", "2", "--quiet",
        ])
        XCTAssertEqual(filled.status, 0, filled.err)
        let result = try ImageFile.read(root + "/out2/S1_a_INPAINT.JPG")
        XCTAssertGreaterThan(
            psnr(
                Geometry.crop(result, x: 0, y: 0, width: 14, height: 16),
                Geometry.crop(image, x: 0, y: 0, width: 14, height: 16)), 30)
        // A missing mask, or a mask that is not an image, is one error naming the file; nothing is written.
        try FileManager.default.createDirectory(atPath: root + "/masks-none", withIntermediateDirectories: true)
        let missing = try runRivers([
            "inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-none", "--out_dir",
            root + "/out3",
        ])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("masks-none/S1_a.*: missing"), missing.err)
        writeFile(root + "/masks-bad/S1_a.png", Data("no image".utf8))
        let bad = try runRivers([
            "inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-bad", "--out_dir",
            root + "/out3",
        ])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("masks-bad/S1_a.png: not a JPEG or PNG image"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out3"))
    }
}
