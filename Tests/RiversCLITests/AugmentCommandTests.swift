// `rivers augment` end to end, through the executable.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class AugmentCommandTests: XCTestCase {
    /// Synthesized raw data, tiny models for the labels of the smaller category, a real run: the
    /// categories end equal on disk, the input is untouched, a rerun generates nothing, a missing
    /// model stops everything before any work.
    func testAugmentEndToEnd() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let rawBefore = listing(root + "/raw")
        // Category 1 (labels 1-3: 7 + 5 + 5) is smaller than category 2 (9 + 7 + 7).
        let runs = try trainTinyModels(raw: root + "/raw", labels: 1...3, into: root + "/models")
        XCTAssertEqual(runs.count, 3)
        let out = root + "/balanced"
        let missing = try runRivers([
            "augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths", runs[0], runs[2],
        ])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("label 2 needs"), missing.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let dry = try runRivers(
            ["augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths"] + runs.reversed() + ["--dry_run"]
        )
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.contains("dry run: 6 images would be generated"), dry.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let args =
            ["augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths"] + runs.reversed()
            + ["--generate_diffusion_steps", "3", "--quiet"]
        let r = try runRivers(args)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("40 originals copied, 6 images generated at 24x8, 0 already present"), r.out)
        XCTAssertTrue(r.out.contains("(8x16 images, upscaled 1.5x to 8x24)"), r.out)
        let counts = (1...6).map { listing(out + "/\($0)").filter { $0.hasSuffix(".JPG") }.count }
        XCTAssertEqual(counts[0..<3].reduce(0, +), counts[3..<6].reduce(0, +), "\(counts)")
        let generated = (1...3).flatMap { l in listing(out + "/\(l)").filter { $0.contains("_DM_") } }
        XCTAssertEqual(generated.count, 6)
        XCTAssertTrue(generated.contains { $0.hasPrefix("S0_") && $0.contains("_DM_AUG_") }, "\(generated)")
        XCTAssertTrue(generated.contains { !$0.hasPrefix("S0_") && $0.contains("_DM_VAR_") }, "\(generated)")
        let sample = try ImageFile.read(out + "/2/" + generated.filter { $0.hasSuffix("_L2.JPG") }[0])
        XCTAssertEqual([sample.width, sample.height], [24, 8], "written at the raw images' size")
        XCTAssertEqual(listing(root + "/raw"), rawBefore, "the input is untouched")
        let again = try runRivers(args)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(
            again.out.contains("0 originals copied, 0 images generated at 24x8, 46 already present"), again.out)

        // Photos 2.5x wider than the models' images: refused before any work, under --dry_run
        // too, in one line naming the run, the sizes and the factor; --allow_upscale says it.
        try SampleDataset.write(to: root + "/wide", labels: 6, width: 40, height: 8)
        let wide = ["augment", "--in_dir", root + "/wide", "--out_dir", root + "/wide_out", "--weight_paths"] + runs
        for extra in [[], ["--dry_run"]] {
            let refused = try runRivers(wide + extra)
            XCTAssertEqual(refused.status, 2, refused.err)
            XCTAssertEqual(
                refused.err,
                "rivers: error: run \(runs[0]): its 8x16 images would be upscaled 2.5x to 8x40; a classifier can learn 'blurry means synthetic'; train at a larger --image_size, or pass --allow_upscale\n"
            )
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/wide_out"))
        }
        let allowed = try runRivers(wide + ["--allow_upscale", "--dry_run"])
        XCTAssertEqual(allowed.status, 0, allowed.err)
        XCTAssertTrue(
            allowed.err.contains("note: --allow_upscale: label 1's 8x16 images are upscaled 2.5x to 8x40"), allowed.err)
        XCTAssertTrue(allowed.out.contains("(8x16 images, upscaled 2.5x to 8x40)"), allowed.out)
    }
}
