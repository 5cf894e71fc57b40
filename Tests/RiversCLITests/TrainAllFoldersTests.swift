// `rivers train-all`: one folder per label, and a summary that names each row's folder.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class TrainAllFoldersTests: XCTestCase {
    let tiny = [
        "--image_size", "8", "16", "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8",
        "--batch_size", "2", "--num_epochs", "1", "--images_to_generate", "0", "--quiet",
    ]

    /// L1 and L01 in --in_dir: refused before any work, naming both; with one folder per label the
    /// summary table shows the folder each row trained.
    func testTwoFoldersOfOneLabelAreRefusedAndTheSummaryNamesEachFolder() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/T/L1", count: 4)
        try writeTrainingImages(root + "/T/L01", count: 4)
        try writeTrainingImages(root + "/T/L2", count: 4)
        let twice = try runRivers(["train-all", "--in_dir", root + "/T", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(twice.status, 1)
        XCTAssertEqual(
            twice.err,
            "rivers: error: \(root)/T: holds two folders of label 1 (L01 and L1): one folder per label; merge them or move one away\n"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/models"), "nothing written")
        try FileManager.default.removeItem(atPath: root + "/T/L01")
        let r = try runRivers(["train-all", "--in_dir", root + "/T", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(r.status, 0, r.err)
        let table = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(table.contains { $0.hasPrefix("label") && $0.contains(" folder ") }, r.out)
        for label in 1...2 {
            XCTAssertTrue(
                table.contains { $0.hasPrefix("L\(label) ") && $0.contains(" \(root)/T/L\(label) ") }, r.out)
        }
    }

    /// --init_from DIR: each label starts from the run DIR holds for it (config.json names that
    /// run's checkpoint), at another image size; a label without a run, two runs of one label,
    /// one run instead of a folder, or another network are refused before any run is made.
    func testInitFromStartsEachLabelFromItsOwnRun() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/T/L1", count: 4)
        try writeTrainingImages(root + "/T/L2", count: 4)
        let small = try runRivers(["train-all", "--in_dir", root + "/T", "--out_dir", root + "/small"] + tiny)
        XCTAssertEqual(small.status, 0, small.err)
        let smallRuns = try FileManager.default.contentsOfDirectory(atPath: root + "/small").sorted()
        XCTAssertEqual(smallRuns.count, 2)
        let large = ["--image_size", "16", "32"]
        let r = try runRivers(
            ["train-all", "--in_dir", root + "/T", "--out_dir", root + "/large", "--init_from", root + "/small"] + tiny
                + large)
        XCTAssertEqual(r.status, 0, r.err)
        for run in try FileManager.default.contentsOfDirectory(atPath: root + "/large") {
            let record = try RunDirectory(root + "/large/" + run).record()
            XCTAssertEqual(record.train.height, 16)
            let source = try XCTUnwrap(record.initFrom)
            XCTAssertTrue(source.contains("/small/L\(record.label)_"), "label \(record.label) started from \(source)")
        }
        // Refusals: nothing is made.
        try FileManager.default.createDirectory(atPath: root + "/one", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root + "/small/" + smallRuns[0], toPath: root + "/one/a")
        let refusals: [([String], String)] = [
            (["--init_from", root + "/one"], "holds no run of label 2"),
            (["--init_from", root + "/small/" + smallRuns[0]], "is one run"),
            (["--init_from", root + "/small", "--widths", "8", "24"], "--init_from needs the same widths"),
        ]
        for (extra, reason) in refusals {
            let refused = try runRivers(
                ["train-all", "--in_dir", root + "/T", "--out_dir", root + "/refused"] + tiny + extra)
            XCTAssertEqual(refused.status, 1, extra.joined(separator: " "))
            XCTAssertTrue(refused.err.contains(reason), refused.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/refused"), "nothing written")
        }
        try FileManager.default.copyItem(atPath: root + "/small/" + smallRuns[0], toPath: root + "/small/copy")
        let twice = try runRivers(
            ["train-all", "--in_dir", root + "/T", "--out_dir", root + "/refused", "--init_from", root + "/small"]
                + tiny)
        XCTAssertEqual(twice.status, 2)
        XCTAssertTrue(twice.err.contains("holds two runs of label 1"), twice.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/refused"), "nothing written")
    }
}
