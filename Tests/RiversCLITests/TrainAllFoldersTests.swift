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
}
