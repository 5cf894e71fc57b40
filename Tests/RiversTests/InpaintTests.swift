// RePaint: the schedule of times with jumps, and `rivers inpaint` end to end.
import Foundation
import XCTest
import Rivers

final class InpaintTests: XCTestCase {
    /// The paper's get_schedule_jump, followed by hand for T = 5, jump_length 2, jump_n_sample 2:
    /// jump points 0 and 2 (multiples of 2 below 5 - 2), each gone back from once.
    func testScheduleWithJumpsMatchesTheHandComputedList() {
        XCTAssertEqual(RePaint.schedule(steps: 5, jumpLength: 2, jumpSamples: 2), [4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1])
        // Without jumps: straight down.
        XCTAssertEqual(RePaint.schedule(steps: 4, jumpLength: 1, jumpSamples: 1), [3, 2, 1, 0, -1])
        XCTAssertEqual(RePaint.schedule(steps: 3, jumpLength: 3, jumpSamples: 5), [2, 1, 0, -1], "no jump point below T - jump_length")
    }

    /// With a predictor that returns zeros the loop still runs every step, and an all-keep mask
    /// returns the real image exactly.
    func testAllKeepMaskReturnsTheImage() {
        final class Zero: NoisePredictor {
            let batch = 1, height = 2, width = 3
            var calls = 0
            func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
                calls += 1
                out.update(repeating: 0, count: 18)
            }
        }
        let x0 = randomArray(18, seed: 3), mask = [Float](repeating: 1, count: 6)
        let predictor = Zero()
        var rngs = [SeededGenerator(seed: 1)]
        var steps = 0
        let out = RePaint(sampler: DDIMSampler(steps: 5, eta: 1), jumpLength: 2, jumpSamples: 2).inpaint(predictor, x0: x0, mask: mask, rngs: &rngs) { steps += 1 }
        XCTAssertEqual(out, x0)
        XCTAssertEqual(steps, 13, "14 indices, 13 moves")
        XCTAssertEqual(predictor.calls, 9, "one prediction per step down")
    }

    func testInpaintCommand() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 4)
        let r = try runRivers(["train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--image_size", "8", "16", "--widths", "8", "16",
                               "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2", "--num_epochs", "1", "--images_to_generate", "0", "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        let run = root + "/models/" + (try FileManager.default.contentsOfDirectory(atPath: root + "/models").first!)
        let image = patternImage(width: 32, height: 16, seed: 5)
        try FileManager.default.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        try ImageFile.write(image, to: root + "/images/S1_a.png")
        writeFile(root + "/masks-white/S1_a.png", try ImageFile.encode(Image(width: 32, height: 16, pixels: [UInt8](repeating: 255, count: 32 * 16 * 3)), path: "m.png"))
        let white = try runRivers(["inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-white", "--out_dir", root + "/out",
                                   "--generate_diffusion_steps", "4", "--jump_length", "2", "--jump_n_sample", "2", "--quiet"])
        XCTAssertEqual(white.status, 0, white.err)
        // An all-white mask keeps every pixel: the output is the input through the JPEG encoder,
        // exactly the bytes of encoding the input itself.
        let out = try Data(contentsOf: URL(fileURLWithPath: root + "/out/S1_a_INPAINT.JPG"))
        XCTAssertEqual(out, try ImageFile.encode(image, path: "x.JPG"))
        // A half-black mask changes the masked half only.
        var half = [UInt8](repeating: 255, count: 32 * 16 * 3)
        for y in 0..<16 { for x in 16..<32 { for c in 0..<3 { half[(y * 32 + x) * 3 + c] = 0 } } }
        writeFile(root + "/masks-half/S1_a.png", try ImageFile.encode(Image(width: 32, height: 16, pixels: half), path: "m.png"))
        let filled = try runRivers(["inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-half", "--out_dir", root + "/out2",
                                    "--generate_diffusion_steps", "4", "--jump_length", "2", "--jump_n_sample", "2", "--quiet"])
        XCTAssertEqual(filled.status, 0, filled.err)
        let result = try ImageFile.read(root + "/out2/S1_a_INPAINT.JPG")
        XCTAssertGreaterThan(psnr(Geometry.crop(result, x: 0, y: 0, width: 14, height: 16), Geometry.crop(image, x: 0, y: 0, width: 14, height: 16)), 30)
        // A missing mask, or a mask that is not an image, is one error naming the file; nothing is written.
        try FileManager.default.createDirectory(atPath: root + "/masks-none", withIntermediateDirectories: true)
        let missing = try runRivers(["inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-none", "--out_dir", root + "/out3"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("masks-none/S1_a.*: missing"), missing.err)
        writeFile(root + "/masks-bad/S1_a.png", Data("no image".utf8))
        let bad = try runRivers(["inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks-bad", "--out_dir", root + "/out3"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("masks-bad/S1_a.png: not a JPEG or PNG image"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out3"))
    }
}
