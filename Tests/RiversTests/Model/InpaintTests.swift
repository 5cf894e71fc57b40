// RePaint: the schedule of times with jumps, and `rivers inpaint` end to end.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class InpaintTests: XCTestCase {
    /// The paper's get_schedule_jump, followed by hand for T = 5, jump_length 2, jump_n_sample 2:
    /// jump points 0 and 2 (multiples of 2 below 5 - 2), each gone back from once.
    func testScheduleWithJumpsMatchesTheHandComputedList() {
        XCTAssertEqual(
            RePaint.schedule(steps: 5, jumpLength: 2, jumpSamples: 2), [4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1])
        // Without jumps: straight down.
        XCTAssertEqual(RePaint.schedule(steps: 4, jumpLength: 1, jumpSamples: 1), [3, 2, 1, 0, -1])
        XCTAssertEqual(
            RePaint.schedule(steps: 3, jumpLength: 3, jumpSamples: 5), [2, 1, 0, -1],
            "no jump point below T - jump_length")
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
        let out = RePaint(sampler: DDIMSampler(steps: 5, eta: 1), jumpLength: 2, jumpSamples: 2).inpaint(
            predictor, x0: x0, mask: mask, rngs: &rngs
        ) { steps += 1 }
        XCTAssertEqual(out, x0)
        XCTAssertEqual(steps, 13, "14 indices, 13 moves")
        XCTAssertEqual(predictor.calls, 9, "one prediction per step down")
        // A stop between evaluations gives no image, and no evaluation after it.
        var moves = 0
        let stopped = RePaint(sampler: DDIMSampler(steps: 5, eta: 1), jumpLength: 2, jumpSamples: 2).inpaint(
            predictor, x0: x0, mask: mask, rngs: &rngs, onStep: { moves += 1 }, shouldStop: { moves >= 4 })
        XCTAssertNil(stopped)
        XCTAssertEqual(moves, 4)
    }

    /// Images and masks on disk: `images` and `masks` are file names, each a small PNG.
    func folders(images: [String], masks: [String]) throws -> (root: String, images: String, masks: String) {
        let root = try makeTempDir(self)
        for (dir, names) in [("images", images), ("masks", masks)] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
            for (k, name) in names.enumerated() {
                try ImageFile.write(patternImage(width: 32, height: 16, seed: k), to: root + "/\(dir)/" + name)
            }
        }
        return (root, root + "/images", root + "/masks")
    }

    /// Two masks for one image (S1_x.png and S1_x.jpg) are refused naming both, whatever the
    /// directory order, instead of one of them being used.
    func testTwoMasksForOneImageAreRefusedNamingBoth() throws {
        let f = try folders(images: ["S1_x.png", "S2_y.png"], masks: ["S1_x.png", "S1_x.jpg", "S2_y.png"])
        assertFileError(
            try InpaintRun.jobs(images: f.images, masks: f.masks), path: f.masks,
            reason: "holds 2 masks for the image S1_x.png (S1_x.jpg and S1_x.png): keep one")
        // Two masks of a name no image has are not in the way.
        let spare = try folders(images: ["S2_y.png"], masks: ["S1_x.png", "S1_x.jpg", "S2_y.jpg"])
        XCTAssertEqual(try InpaintRun.jobs(images: spare.images, masks: spare.masks).map(\.name), ["S2_y.png"])
    }

    /// A.jpg and A.png would both be written as A_INPAINT.JPG: refused naming both, so neither is
    /// silently left out.
    func testTwoImagesOfOneNameAreRefusedNamingBoth() throws {
        let f = try folders(images: ["A.jpg", "A.png", "B.png"], masks: ["A.png", "B.png"])
        assertFileError(
            try InpaintRun.jobs(images: f.images, masks: f.masks), path: f.images,
            reason: "holds two images named A (A.jpg and A.png), which would both be written as A_INPAINT.JPG")
    }

    /// No images, an image that does not decode, a missing folder: one error naming it.
    func testEmptyFolderAndUndecodableImageAreNamed() throws {
        let empty = try folders(images: [], masks: ["A.png"])
        writeFile(empty.images + "/notes.txt", Data("x".utf8))
        assertFileError(
            try InpaintRun.jobs(images: empty.images, masks: empty.masks), path: empty.images,
            reason: "has no .jpg, .jpeg or .png images")
        let bad = try folders(images: ["A.png"], masks: ["A.png", "B.png"])
        writeFile(bad.images + "/B.jpg", Data("not a jpeg".utf8))
        assertFileError(
            try InpaintRun.jobs(images: bad.images, masks: bad.masks), path: bad.images + "/B.jpg",
            reason: "not a JPEG or PNG image")
        assertFileError(
            try InpaintRun.jobs(images: bad.root + "/none", masks: bad.masks), path: bad.root + "/none",
            reason: "does not exist")
    }

    /// An --out_dir that is --images or --masks, or inside one (also through a link), is refused:
    /// a second run would take the results for images needing masks.
    func testOutDirInsideImagesOrMasksIsRefused() throws {
        let f = try folders(images: ["A.png"], masks: ["A.png"])
        try FileManager.default.createSymbolicLink(atPath: f.root + "/link", withDestinationPath: f.images)
        for out in [f.images, f.images + "/sub", f.images + "/", f.masks, f.masks + "/x/y", f.root + "/link/out"] {
            XCTAssertThrowsError(try InpaintRun.checkOutside(outDir: out, images: f.images, masks: f.masks), out) {
                guard case RiversError.usage(let message)? = $0 as? RiversError else {
                    return XCTFail("expected a usage error, got \($0)")
                }
                XCTAssertTrue(message.hasPrefix("--out_dir \(out) is inside --"), message)
            }
        }
        XCTAssertNoThrow(try InpaintRun.checkOutside(outDir: f.root + "/out", images: f.images, masks: f.masks))
        XCTAssertNoThrow(try InpaintRun.checkOutside(outDir: f.root, images: f.images, masks: f.masks))
    }

    /// A tiny trained run (8x16, one epoch) in `root`/run.
    func tinyRun(_ root: String) throws -> TrainedModel {
        try writeTrainingImages(root + "/data/1", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = 1; c.imagesToGenerate = 0
        let data = TrainingImages.load(try TrainingImages.scan(root + "/data").images, height: 8, width: 16).images
        let dir = RunDirectory(root + "/run")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let run = try TrainingRun.start(
            in: dir, record: RunRecord(label: 1, inDir: root + "/data", train: c), data: data)
        XCTAssertEqual(try run.train(), .finished)
        return try TrainedModel(run: dir.path)
    }

    /// A stop requested in the middle of an image's RePaint loop stops there: that image is not
    /// written (the ones before it are) and the report says interrupted. The same call again
    /// removes what a killed writer left, keeps what is there and fills the rest, each image as an
    /// uninterrupted run fills it.
    func testStopWithinAnImageAndTheRerunFillsTheRest() throws {
        let f = try folders(images: ["A.png", "B.png", "C.png"], masks: [])
        var half = [UInt8](repeating: 255, count: 32 * 16 * 3)
        for i in 0..<(16 * 16 * 3) { half[i] = 0 }
        for name in ["A.png", "B.png", "C.png"] {
            writeFile(
                f.masks + "/" + name, try ImageFile.encode(Image(width: 32, height: 16, pixels: half), path: "m.png"))
        }
        let model = try tinyRun(f.root)
        var settings = InpaintConfig()
        settings.generation.steps = 6; settings.jumpLength = 2; settings.jumpSamples = 2
        let perImage = InpaintRun.stepsPerImage(settings)
        let jobs = try InpaintRun.jobs(images: f.images, masks: f.masks)
        let out = f.root + "/out", straight = f.root + "/straight"
        XCTAssertEqual(try InpaintRun.execute(jobs, model: model, settings: settings, outDir: straight).written, 3)
        // Stop after the first step of B (both B's first two steps are network evaluations).
        var steps = 0, asked = 0
        let stopped = try InpaintRun.execute(
            jobs, model: model, settings: settings, outDir: out, step: { steps += $0 },
            shouldStop: {
                asked += 1; return steps > perImage
            })
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.written, 1)
        XCTAssertEqual(steps, perImage + 1, "no progress after the stop")
        XCTAssertGreaterThan(asked, 3, "asked between evaluations, not only between images")
        XCTAssertEqual(listing(out), ["A_INPAINT.JPG"])
        // A killed writer's temporary is removed by the rerun; the rest is filled.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        writeFile(out + "/.B_INPAINT.JPG.\(dead.processIdentifier).7.tmp", Data("half".utf8))
        let rest = try InpaintRun.execute(jobs, model: model, settings: settings, outDir: out)
        XCTAssertEqual([rest.written, rest.kept], [2, 1])
        XCTAssertFalse(rest.interrupted)
        XCTAssertEqual(listing(out), ["A_INPAINT.JPG", "B_INPAINT.JPG", "C_INPAINT.JPG"])
        for name in listing(out) {
            XCTAssertEqual(
                FileManager.default.contents(atPath: out + "/" + name),
                FileManager.default.contents(atPath: straight + "/" + name), name)
        }
    }
}
