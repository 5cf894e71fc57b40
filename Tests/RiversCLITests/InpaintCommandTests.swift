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

    /// A tiny run trained by the executable in `root`/models; returns its directory.
    func trainedRun(_ root: String) throws -> String {
        try writeTrainingImages(root + "/L1", count: 4)
        let r = try runRivers([
            "train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--image_size", "8", "16", "--widths",
            "8", "16", "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2", "--num_epochs", "1",
            "--images_to_generate", "0", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        return root + "/models/" + (try FileManager.default.contentsOfDirectory(atPath: root + "/models").first!)
    }

    /// Images S1_a and S1_b of 32x16 with masks of `maskWidth`x`maskHeight` whose left half is black.
    func writeImagesAndMasks(_ root: String, maskWidth: Int = 32, maskHeight: Int = 16) throws {
        var half = [UInt8](repeating: 255, count: maskWidth * maskHeight * 3)
        for y in 0..<maskHeight {
            for x in 0..<(maskWidth / 2) { for c in 0..<3 { half[(y * maskWidth + x) * 3 + c] = 0 } }
        }
        for (k, stem) in ["S1_a", "S1_b"].enumerated() {
            writeFile(
                root + "/images/\(stem).png",
                try ImageFile.encode(patternImage(width: 32, height: 16, seed: k), path: "x.png"))
            writeFile(
                root + "/masks/\(stem).png",
                try ImageFile.encode(Image(width: maskWidth, height: maskHeight, pixels: half), path: "m.png"))
        }
    }

    /// --out_dir equal to or inside --images or --masks is refused before any work (status 2), so
    /// a second run never takes the results for images; a mask of another size is scaled; a
    /// jump longer than the steps is a setting error.
    func testOutDirInsideTheInputsIsRefusedAndMasksOfAnotherSizeWork() throws {
        let root = try makeTempDir(self)
        let run = try trainedRun(root)
        try writeImagesAndMasks(root, maskWidth: 12, maskHeight: 5)
        let fast = ["--generate_diffusion_steps", "4", "--jump_length", "2", "--jump_n_sample", "2", "--quiet"]
        let inputs = ["inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks"]
        let before = listing(root)
        for out in [root + "/images", root + "/images/sub", root + "/masks", root + "/masks/../masks/x"] {
            let r = try runRivers(inputs + ["--out_dir", out] + fast)
            XCTAssertEqual(r.status, 2, out)
            XCTAssertTrue(r.err.contains("--out_dir \(out) is inside --"), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertEqual(listing(root), before, "nothing written")
        }
        let jump = try runRivers(
            inputs + ["--out_dir", root + "/out", "--generate_diffusion_steps", "4", "--jump_length", "5"])
        XCTAssertEqual(jump.status, 2)
        XCTAssertTrue(jump.err.contains("--jump_length must be 1 to --generate_diffusion_steps (4), got 5"), jump.err)
        XCTAssertEqual(listing(root), before, "nothing written")
        let r = try runRivers(inputs + ["--out_dir", root + "/out"] + fast)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(listing(root + "/out"), ["S1_a_INPAINT.JPG", "S1_b_INPAINT.JPG"])
        XCTAssertEqual(try ImageFile.read(root + "/out/S1_a_INPAINT.JPG").width, 32, "at the image's size")
    }

    /// Ctrl-C while an image is being filled stops within its RePaint loop: that image is not
    /// written, the status is 130 and the message says to run the same command again; that
    /// command removes what a killed writer left and fills the rest (status 0).
    func testCtrlCDropsTheImageBeingFilledAndTheSameCommandFinishes() throws {
        let root = try makeTempDir(self)
        let run = try trainedRun(root)
        try writeImagesAndMasks(root)
        let out = root + "/out"
        // About a second and a half per image with the tiny network.
        let args = [
            "inpaint", "--model_dir", run, "--images", root + "/images", "--masks", root + "/masks", "--out_dir", out,
            "--generate_diffusion_steps", "1000", "--jump_length", "10", "--jump_n_sample", "10", "--quiet",
        ]
        let p = Process()
        p.executableURL = riversExecutable
        p.arguments = args
        let stdout = Pipe()
        p.standardOutput = stdout
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out + "/S1_a_INPAINT.JPG") && p.isRunning && Date() < deadline {
            usleep(5_000)
        }
        kill(p.processIdentifier, SIGINT)
        let text = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 130, text)
        XCTAssertTrue(text.contains("interrupted: run the same command again to fill the rest"), text)
        XCTAssertEqual(listing(out), ["S1_a_INPAINT.JPG"], "S1_b was being filled: dropped, not written")
        // What a killed writer leaves: a temporary of a process that no longer runs.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        writeFile(out + "/.S1_b_INPAINT.JPG.\(dead.processIdentifier).3.tmp", Data("half".utf8))
        let again = try runRivers(args)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("1 image inpainted into \(out), 1 already there and kept"), again.out)
        XCTAssertEqual(listing(out), ["S1_a_INPAINT.JPG", "S1_b_INPAINT.JPG"])
    }
}
