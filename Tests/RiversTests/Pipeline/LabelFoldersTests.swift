// The label folders train-all (and the demo) trains: one per label, named L1 .. L6.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class LabelFoldersTests: XCTestCase {
    /// L1 .. L6 by label; other names and labels out of range are not label folders. A label's
    /// name that is not a usable folder (a file, a broken link) is kept, so that training it fails
    /// and is reported rather than the label being passed over.
    func testLabelFoldersInLabelOrder() throws {
        let root = try makeTempDir(self)
        for name in ["L3", "L1", "L02", "other", "L7", "L", "1"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        writeFile(root + "/L4", Data("a file".utf8))
        let folders = try TrainingPlan.labelFolders(root)
        XCTAssertEqual(folders.map(\.label), [1, 2, 3, 4])
        XCTAssertEqual(folders.map(\.path), [root + "/L1", root + "/L02", root + "/L3", root + "/L4"])
    }

    /// L1 and L01 are both label 1: refused naming both, not trained twice as label 1.
    func testTwoFoldersOfOneLabelAreRefusedNamingBoth() throws {
        let root = try makeTempDir(self)
        for name in ["L1", "L01", "L2"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        assertFileError(
            try TrainingPlan.labelFolders(root), path: root,
            reason: "holds two folders of label 1 (L01 and L1): one folder per label")
        try FileManager.default.removeItem(atPath: root + "/L01")
        try FileManager.default.createDirectory(atPath: root + "/L002", withIntermediateDirectories: true)
        assertFileError(
            try TrainingPlan.labelFolders(root), path: root, reason: "holds two folders of label 2 (L002 and L2)")
    }
}
