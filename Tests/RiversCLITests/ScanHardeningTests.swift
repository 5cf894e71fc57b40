// Folders as users leave them: a pipe named like a photo, a link back up the tree, a linked file
// from elsewhere; scans skip and report them, split never hard-links outside its input.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ScanHardeningTests: XCTestCase {
    func testPipesAndLinksUpTheTreeAreSkipped() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        // A pipe would block a read for ever; a link to the dataset would bring in every label.
        XCTAssertEqual(mkfifo(root + "/raw/1/S1_pipe_X.JPG", 0o644), 0)
        try FileManager.default.createSymbolicLink(atPath: root + "/raw/1/up", withDestinationPath: "..")
        let (images, ignored) = try TrainingImages.scan(root + "/raw/1")
        XCTAssertEqual(images.count, SampleDataset.names(label: 1).count, "\(images)")
        XCTAssertTrue(
            ignored.contains { $0.path.hasSuffix("S1_pipe_X.JPG") && $0.reason.contains("not a regular file") })
        XCTAssertTrue(ignored.contains { $0.path.hasSuffix("/up") && $0.reason.contains("links back") }, "\(ignored)")
    }

    func testSplitCopiesLinkedFilesInsteadOfLinkingThem() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let outside = root + "/elsewhere.JPG"
        try FileManager.default.copyItem(
            atPath: root + "/raw/2/" + SampleDataset.names(label: 2)[0].name, toPath: outside)
        let linked = root + "/raw/2/S9_D020125_020125_0_99_X.JPG"
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: outside)
        let r = try runRivers([
            "split", "--in_dir", root + "/raw", "--out_dir", root + "/out", "--by", "image", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        let copy = ["train", "test"].map { root + "/out/\($0)/2/S9_D020125_020125_0_99_X.JPG" }
            .first { FileManager.default.fileExists(atPath: $0) }
        let placed = try XCTUnwrap(copy)
        var a = stat(), b = stat()
        XCTAssertEqual(stat(outside, &a), 0)
        XCTAssertEqual(lstat(placed, &b), 0)
        XCTAssertNotEqual(a.st_ino, b.st_ino, "a linked file is copied, never hard-linked")
        XCTAssertEqual(a.st_nlink, 1)
        // A file put into the output by hand is reported on a rerun, and left alone.
        try FileManager.default.copyItem(atPath: outside, toPath: root + "/out/test/2/stray.JPG")
        let again = try runRivers(["split", "--in_dir", root + "/raw", "--out_dir", root + "/out", "--by", "image"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.err.contains("stray.JPG: not in the split's manifest"), again.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/out/test/2/stray.JPG"))
    }

    func testASplitWithNothingOnOneSideIsRefused() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let r = try runRivers([
            "split", "--in_dir", root + "/raw", "--out_dir", root + "/out", "--test_fraction", "0.001",
        ])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("leaves no label any test image"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out"))
    }
}
