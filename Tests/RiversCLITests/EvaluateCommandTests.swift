// `rivers evaluate` through the executable: a whole small evaluation, its results file, and the
// refusals (a planted leak, a rerun onto existing results, settings that do not fit).
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class EvaluateCommandTests: XCTestCase {
    /// Synthetic photos split by image: raw/, split/train, split/test.
    func splitData(_ root: String) throws {
        let s = try runRivers(["synthesize", "--out_dir", root + "/raw", "--image_size", "16", "48", "--copies", "2"])
        XCTAssertEqual(s.status, 0, s.err)
        let r = try runRivers([
            "split", "--in_dir", root + "/raw", "--out_dir", root + "/split", "--by", "image", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
    }

    let small = ["--image_size", "16", "48", "--steps", "15", "--seeds", "2", "--batch_size", "8", "--quiet"]

    func testEvaluationEndToEnd() throws {
        let root = try makeTempDir(self)
        try splitData(root)
        let out = root + "/evaluation.json"
        let args =
            [
                "evaluate", "--test_dir", root + "/split/test", "--train_dirs", root + "/split/train", root + "/raw",
                "--names", "real", "everything", "--out", out,
            ] + small

        // The dry run prints the plan and the estimate, trains nothing and writes nothing.
        let dry = try runRivers(args + ["--dry_run"])
        XCTAssertEqual(dry.status, 1, "raw holds the test photos: refused even under --dry_run")
        XCTAssertTrue(dry.err.contains("a test photo reached a training set"), dry.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        let fine =
            [
                "evaluate", "--test_dir", root + "/split/test", "--train_dirs", root + "/split/train",
                root + "/split/train", "--names", "real", "again", "--out", out,
            ] + small
        let plan = try runRivers(fine + ["--dry_run"])
        XCTAssertEqual(plan.status, 0, plan.err)
        XCTAssertTrue(plan.out.contains("5 classifiers of 15 steps"), plan.out)
        XCTAssertTrue(plan.out.contains("dry run"), plan.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))

        let r = try runRivers(fine)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("control (labels of 'real' shuffled)"), r.out)
        XCTAssertTrue(r.out.contains("verdict: 'again'"), r.out)
        let result = try EvaluationResult.read(out)
        XCTAssertEqual(result.arms.map(\.name), ["real", "again"])
        XCTAssertEqual(result.arms[0].runs.count, 2)
        XCTAssertTrue(result.control.passed)
        XCTAssertEqual(result.testCounts, try LabelledFiles.scan(root + "/split/test").counts)
        // The same set with the same seeds trains the same classifiers: a difference of exactly 0.
        let versus = try XCTUnwrap(result.arms[1].versusReference)
        XCTAssertEqual(versus.seedDifferences, [0, 0])
        XCTAssertEqual(versus.verdict, .noDetectableDifference)
        XCTAssertEqual(result.arms[0].balancedAccuracy, result.arms[1].balancedAccuracy)

        // The report shows the evaluation at the top, with no runs needed.
        let page = root + "/page.html"
        let report = try runRivers(["report", "--evaluation", out, "--out", page, "--quiet"])
        XCTAssertEqual(report.status, 0, report.err)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("Does augmentation help?"))
        XCTAssertTrue(html.contains("no detectable difference"), "the verdict is on the page")
        let nothing = try runRivers(["report", "--out", root + "/empty.html"])
        XCTAssertEqual(nothing.status, 2, nothing.err)

        // A results file edited into another shape is refused, never read out of range.
        let edited = root + "/edited.json"
        for (from, to) in [
            ("\"confusion\" : [", "\"confusion\" : [[1]],\"x\" : ["),
            ("\"test_counts\" : [", "\"test_counts\" : [1],\"y\" : ["),
        ] {
            let text = try String(contentsOfFile: out, encoding: .utf8)
            XCTAssertTrue(text.contains(from), from)
            try? FileManager.default.removeItem(atPath: edited)
            try text.replacingOccurrences(of: from, with: to).write(toFile: edited, atomically: true, encoding: .utf8)
            let bad = try runRivers(["report", "--evaluation", edited, "--out", root + "/bad.html"])
            XCTAssertEqual(bad.status, 1, "\(from): \(bad.err)")
            XCTAssertTrue(bad.err.contains("is not an evaluation of rivers evaluate"), bad.err)
        }

        // Results are never overwritten.
        let again = try runRivers(fine)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("already exists"), again.err)
    }

    /// A test photo planted in a training set is refused, naming both files: as a copy, and under a
    /// name balance would give its rotation.
    func testPlantedLeaksAreRefused() throws {
        let root = try makeTempDir(self)
        try splitData(root)
        let photo = try XCTUnwrap(listing(root + "/split/test/4").first)
        let source = root + "/split/test/4/" + photo
        let args =
            ["evaluate", "--test_dir", root + "/split/test", "--train_dirs", root + "/arm", "--out", root + "/e.json"]
            + small
        try FileManager.default.copyItem(atPath: root + "/split/train", toPath: root + "/arm")
        try FileManager.default.copyItem(atPath: source, toPath: root + "/arm/2/copy.JPG")
        let copied = try runRivers(args)
        XCTAssertEqual(copied.status, 1)
        XCTAssertTrue(copied.err.contains("copy.JPG") && copied.err.contains(photo), copied.err)
        XCTAssertTrue(copied.err.contains("same content"), copied.err)

        try FileManager.default.removeItem(atPath: root + "/arm/2/copy.JPG")
        let stem = (photo as NSString).deletingPathExtension
        let rotated = try ImageFile.read(source)
        try ImageFile.write(Geometry.flipHorizontal(rotated), to: root + "/arm/4/\(stem)_90_1.JPG")
        let named = try runRivers(args)
        XCTAssertEqual(named.status, 1)
        XCTAssertTrue(named.err.contains("named after the test photo"), named.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/e.json"))
    }

    func testSettingsThatDoNotFitAreRefused() throws {
        let root = try makeTempDir(self)
        try splitData(root)
        let base = ["evaluate", "--test_dir", root + "/split/test", "--train_dirs", root + "/split/train"]
        for (extra, expected) in [
            (["--names", "a", "b"], "one name per folder"), (["--seeds", "0"], "--seeds"),
            (["--steps", "nan"], "--steps"), (["--image_size", "8", "48"], "--image_size"),
            (["--learning_rate", "-1"], "--learning_rate"),
        ] {
            let r = try runRivers(base + extra + ["--dry_run"])
            XCTAssertEqual(r.status, 2, "\(extra): \(r.err)")
            XCTAssertTrue(r.err.contains(expected), "\(extra): \(r.err)")
        }
        let inside = try runRivers([
            "evaluate", "--test_dir", root + "/split/test", "--train_dirs", root + "/split", "--dry_run",
        ])
        XCTAssertEqual(inside.status, 2, inside.err)
        XCTAssertTrue(inside.err.contains("lies in the test folder"), inside.err)
        // Results never go into an input; memory that is not there is refused before any work.
        let intoTest = try runRivers(base + ["--out", root + "/split/test/1/e.json", "--dry_run"])
        XCTAssertEqual(intoTest.status, 2, intoTest.err)
        XCTAssertTrue(intoTest.err.contains("an input of the evaluation"), intoTest.err)
        let huge = try runRivers(base + ["--image_size", "4096", "4096", "--batch_size", "1024", "--dry_run"])
        XCTAssertEqual(huge.status, 2, huge.err)
        XCTAssertTrue(huge.err.contains("available"), huge.err)
        let folder = try runRivers(base + ["--out", root + "/split", "--dry_run"])
        XCTAssertEqual(folder.status, 1, folder.err)
        XCTAssertTrue(folder.err.contains("is a folder"), folder.err)
        let noFolder = try runRivers(base + ["--out", root + "/missing/e.json", "--dry_run"])
        XCTAssertEqual(noFolder.status, 1, noFolder.err)
        XCTAssertTrue(noFolder.err.contains("does not exist"), noFolder.err)
        let noResults = try runRivers(["report", "--evaluation", root + "/none.json", "--out", root + "/p.html"])
        XCTAssertEqual(noResults.status, 1, noResults.err)
        XCTAssertTrue(noResults.err.contains("none.json: does not exist"), noResults.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/p.html"))
        let empty = root + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let none = try runRivers(base.prefix(3) + ["--train_dirs", empty, "--dry_run"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.contains("has no label folders"), none.err)
    }
}
