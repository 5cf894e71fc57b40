// The sets of `rivers evaluate`: label folders in both spellings, what is skipped, the leak checks
// and the plan's refusals.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class EvaluationDataTests: XCTestCase {
    func write(_ path: String, seed: UInt64) throws {
        try FileManager.default.createDirectory(
            atPath: FileOps.parent(path), withIntermediateDirectories: true)
        try ImageFile.write(noiseImage(width: 12, height: 4, seed: seed), to: path)
    }

    func testLabelFoldersInBothSpellings() throws {
        let root = try makeTempDir(self)
        try write(root + "/a/1/S1_x.png", seed: 1)
        try write(root + "/a/L2/2/S1_y.png", seed: 2)
        try write(root + "/a/1/contact_sheet_L1_0-2.png", seed: 3)
        try write(root + "/a/notes/S1_z.png", seed: 4)
        // rivers infer's sheets of `--out_dir a/1` go to a/sheets: passed over without a word.
        try write(root + "/a/sheets/contact_sheet_L1_0-2.png", seed: 6)
        let files = try LabelledFiles.scan(root + "/a")
        XCTAssertFalse(files.skipped.contains { $0.path.contains("/a/sheets") }, "\(files.skipped)")
        XCTAssertEqual(files.files.map(\.label), [1, 2])
        XCTAssertEqual(files.counts, [1, 1, 0, 0, 0, 0])
        XCTAssertTrue(files.skipped.contains { $0.path.hasSuffix("contact_sheet_L1_0-2.png") }, "\(files.skipped)")
        XCTAssertTrue(files.skipped.contains { $0.path.hasSuffix("notes") }, "\(files.skipped)")

        try write(root + "/a/L1/S1_w.png", seed: 5)
        XCTAssertThrowsError(try LabelledFiles.scan(root + "/a")) { e in
            XCTAssertTrue("\(e)".contains("two folders of label 1"), "\(e)")
        }
        XCTAssertThrowsError(try LabelledFiles.scan(root + "/missing")) { e in
            XCTAssertTrue("\(e)".contains("does not exist"), "\(e)")
        }
    }

    func testLeakChecks() throws {
        let root = try makeTempDir(self)
        try write(root + "/test/S1_img1.png", seed: 1)
        try write(root + "/train/S1_img10.png", seed: 2)
        try write(root + "/train/S2_other.png", seed: 3)
        let test = [root + "/test/S1_img1.png"]
        // A name that only shares a prefix without a separator is not a derived name.
        XCTAssertNoThrow(
            try Leakage.check(
                train: [root + "/train/S1_img10.png", root + "/train/S2_other.png"], test: test, arm: "a"))
        // Balance's name for a rotation of the test photo.
        XCTAssertThrowsError(try Leakage.check(train: [root + "/train/S1_img1_90_1.JPG"], test: test, arm: "a")) {
            XCTAssertTrue("\($0)".contains("named after the test photo") && "\($0)".contains("S1_img1.png"), "\($0)")
        }
        // A short test name (under 4 characters) is found too.
        try write(root + "/test/a1.png", seed: 7)
        XCTAssertThrowsError(
            try Leakage.check(train: [root + "/train/a1_90_1.JPG"], test: [root + "/test/a1.png"], arm: "a"))
        // The same bytes under another name.
        try FileManager.default.copyItem(atPath: test[0], toPath: root + "/train/renamed.png")
        XCTAssertThrowsError(try Leakage.check(train: [root + "/train/renamed.png"], test: test, arm: "a")) {
            XCTAssertTrue("\($0)".contains("same content"), "\($0)")
        }
        // The same decoded pixels (as a re-encoding without loss would give).
        XCTAssertThrowsError(
            try Leakage.check(
                train: [], test: [], trainPixels: ["t.png": "abc"], testPixels: ["s.png": "abc"], arm: "a")
        ) { XCTAssertTrue("\($0)".contains("same pixels"), "\($0)") }
    }

    func testPlanRefusals() throws {
        let root = try makeTempDir(self)
        try write(root + "/test/1/S1_a.png", seed: 1)
        try write(root + "/test/2/S1_b.png", seed: 2)
        try write(root + "/real/1/S1_c.png", seed: 3)
        try write(root + "/real/2/S1_d.png", seed: 4)
        try write(root + "/gen/1/" + GeneratedNames.pure(label: 1, index: 0, date: Date()), seed: 5)
        let config = EvaluateConfig()
        let plan = try EvaluatePlan.make(
            config: config, testDir: root + "/test", trainDirs: [root + "/real", root + "/gen"], names: nil)
        XCTAssertEqual(plan.arms.map(\.name), ["real", "gen"])
        XCTAssertEqual(plan.arms.map(\.generated), [0, 1])
        XCTAssertTrue(plan.arms[1].syntheticOnly)
        XCTAssertEqual(plan.runs, 2 * config.seeds + 1)
        // The reference must have every tested label: gen has no label 2.
        XCTAssertThrowsError(
            try EvaluatePlan.make(
                config: config, testDir: root + "/test", trainDirs: [root + "/gen", root + "/real"], names: nil)
        ) { XCTAssertTrue("\($0)".contains("no images of label 2"), "\($0)") }
        XCTAssertThrowsError(
            try EvaluatePlan.make(
                config: config, testDir: root + "/test", trainDirs: [root + "/real", root + "/real"], names: nil)
        ) { XCTAssertTrue("\($0)".contains("'real' twice"), "\($0)") }
        XCTAssertThrowsError(
            try EvaluatePlan.make(config: config, testDir: root + "/test", trainDirs: [root], names: nil)
        ) { XCTAssertTrue("\($0)".contains("lies in the test folder"), "\($0)") }
    }
}
