// `rivers split` end to end, through the executable: the dry run, the split, a rerun, refusals.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class SplitCommandTests: XCTestCase {
    func testSplitEndToEnd() throws {
        let root = try makeTempDir(self)
        let raw = root + "/raw", out = root + "/out"
        try SampleDataset.write(to: raw, labels: 6, width: 24, height: 8)
        let rawBefore = listing(raw)
        let dry = try runRivers(["split", "--in_dir", raw, "--out_dir", out, "--by", "image", "--dry_run"])
        XCTAssertEqual(dry.status, 0, dry.err)
        // round(0.2 x n) for n = 7, 5, 5, 9, 7, 7: 1 + 1 + 1 + 2 + 1 + 1.
        XCTAssertTrue(dry.out.contains("dry run: 40 files would be placed into \(out) (train: 33, test: 7)"), dry.out)
        XCTAssertTrue(dry.out.contains("by image: 40 images, test fraction 0.2, seed 42"), dry.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a dry run writes nothing")

        let args = ["split", "--in_dir", raw, "--out_dir", out, "--by", "image", "--quiet"]
        let r = try runRivers(args)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(
            r.out.contains("40 files linked, 0 copied, 0 already present into \(out) (train: 33, test: 7)"), r.out)
        XCTAssertTrue(r.out.contains("must use \(out)/train only; evaluate uses \(out)/test"), r.out)
        XCTAssertTrue(r.out.contains("label  images  train  test\n1           7      6     1\n"), r.out)
        let files = listing(out).filter { $0.hasSuffix(".JPG") }
        XCTAssertEqual(files.filter { $0.hasPrefix("train/") }.count, 33)
        XCTAssertEqual(files.filter { $0.hasPrefix("test/") }.count, 7)
        let manifest = try SplitManifest.read(out)
        XCTAssertEqual(manifest.entries.count, 40)
        XCTAssertEqual(Set(manifest.entries.map(\.output)), Set(files))
        XCTAssertEqual(listing(raw), rawBefore, "the input is untouched")

        let again = try runRivers(args)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("0 files linked, 0 copied, 40 already present"), again.out)
        // Another seed into the same folder: refused, naming the recorded one.
        let other = try runRivers(args + ["--seed", "7"])
        XCTAssertEqual(other.status, 2)
        XCTAssertTrue(other.err.contains("records a split made with --seed 42"), other.err)
        // The default unit is the (site, date) group.
        let grouped = try runRivers(["split", "--in_dir", raw, "--out_dir", root + "/g", "--dry_run"])
        XCTAssertEqual(grouped.status, 0, grouped.err)
        XCTAssertTrue(grouped.out.contains("by group (a site's photos of one date"), grouped.out)
        // A copy of a photo under another name goes wherever the photo goes, and is counted.
        let first = raw + "/1/" + listing(raw + "/1")[0]
        try FileManager.default.copyItem(atPath: first, toPath: raw + "/1/S9_D0101_copy.JPG")
        let twins = try runRivers(["split", "--in_dir", raw, "--out_dir", root + "/t", "--quiet"])
        XCTAssertEqual(twins.status, 0, twins.err)
        XCTAssertTrue(twins.out.contains("1 duplicate file kept on one side"), twins.out)
        let sides = try SplitManifest.read(root + "/t").entries.filter {
            $0.path.hasSuffix("_copy.JPG") || raw + "/" + $0.path == first
        }.map(\.side)
        XCTAssertEqual(sides.count, 2)
        XCTAssertEqual(Set(sides).count, 1)
    }

    func testRefusals() throws {
        let root = try makeTempDir(self)
        let raw = root + "/raw"
        try SampleDataset.write(to: raw, labels: 3, width: 24, height: 8)
        let before = listing(root)
        for out in [raw + "/split", root] {
            for dry in [false, true] {
                let r = try runRivers(
                    ["split", "--in_dir", raw, "--out_dir", out, "--quiet"] + (dry ? ["--dry_run"] : []))
                XCTAssertEqual(r.status, 2, r.err)
                XCTAssertTrue(r.err.contains("is inside"), r.err)
                XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            }
        }
        for fraction in ["0", "1", "nan", "-0.1", "x"] {
            let r = try runRivers(["split", "--in_dir", raw, "--out_dir", root + "/out", "--test_fraction", fraction])
            XCTAssertEqual(r.status, 2, "\(fraction): \(r.err)")
            XCTAssertTrue(r.err.contains("--test_fraction must be"), r.err)
        }
        let by = try runRivers(["split", "--in_dir", raw, "--out_dir", root + "/out", "--by", "date"])
        XCTAssertEqual(by.status, 2)
        XCTAssertTrue(by.err.contains("--by must be group or image or site, got date"), by.err)
        let missing = try runRivers(["split", "--out_dir", root + "/out"])
        XCTAssertEqual(missing.status, 2)
        let absent = try runRivers(["split", "--in_dir", root + "/nothing", "--out_dir", root + "/out"])
        XCTAssertEqual(absent.status, 1)
        XCTAssertTrue(absent.err.contains("\(root)/nothing: input folder does not exist"), absent.err)
        XCTAssertEqual(listing(root), before, "nothing was written")
    }
}
