// `rivers report` and `rivers demo`: counts per stage, charts, the page's content, what it may
// replace, and the whole demo pipeline on a tiny configuration.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ReportTests: XCTestCase {
    func jpeg(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try ImageFile.write(patternImage(width: 12, height: 4), to: path)
    }

    /// Counts per label and site at each stage found: raw/ (or label folders at the top),
    /// diffusion_data/L*/ at any depth, balanced_data/; hidden and non-image files left out.
    func testDatasetCountsPerStage() throws {
        let root = try makeTempDir(self)
        for name in ["S1_a.JPG", "S1_b.JPG", "S2_a.JPG", ".hidden.JPG", "notes.txt"] {
            try jpeg(root + "/raw/1/" + name)
        }
        try jpeg(root + "/raw/4/S10_a.JPG")
        for name in ["S1_a.JPG", "S1_b.JPG", "S2_a.JPG", "S2_a_5_-1.JPG"] {
            try jpeg(root + "/diffusion_data/L1/1/" + name)
        }
        for name in ["S1_a.JPG", "S0_D010125_010125_0_0_DM_AUG_L1.JPG"] { try jpeg(root + "/balanced_data/1/" + name) }
        let counts = try DatasetCounts.read(root)
        XCTAssertEqual(counts.stages.map(\.name), ["before balance", "after balance", "after augment"])
        XCTAssertEqual(counts.stages[0].counts, [1: ["S1": 2, "S2": 1], 4: ["S10": 1]])
        XCTAssertEqual(counts.stages[1].counts, [1: ["S1": 2, "S2": 2]])
        XCTAssertEqual(counts.stages[2].counts, [1: ["S1": 1, "S0": 1]])
        XCTAssertEqual(counts.sites, ["S1", "S2", "S10", "S0"], "by number, the generated site last")
        XCTAssertEqual(counts.labels, [1, 4])
        // Label folders directly in the folder are the raw stage; a folder with none is an error.
        let flat = try DatasetCounts.read(root + "/raw")
        XCTAssertEqual(flat.stages.map(\.name), ["before balance"])
        XCTAssertEqual(flat.stages[0].total, 4)
        assertFileError(try DatasetCounts.read(root + "/raw/1"), path: root + "/raw/1", reason: "has no label folders")
        assertFileError(try DatasetCounts.read(root + "/missing"), path: root + "/missing", reason: "does not exist")
    }

    func testBarChartDrawsEverySegmentAndEscapes() {
        let groups = [
            BarChart.Group(
                title: "L<1>",
                bars: [
                    BarChart.Bar(caption: "b", segments: [("S1", 2), ("S2", 3)]),
                    BarChart.Bar(caption: "aug", segments: [("S1", 4), ("S2", 0)]),
                ])
        ]
        let svg = BarChart.svg(groups, names: ["S1", "S2"], yTitle: "images")
        XCTAssertEqual(
            svg.components(separatedBy: "<rect x=").count - 1, 3 + 2, "three non-zero segments and two legend keys")
        XCTAssertTrue(svg.contains("L&lt;1&gt;"))
        XCTAssertFalse(svg.contains("L<1>"))
        XCTAssertTrue(svg.contains(">5<") && svg.contains(">4<"), "bar totals are labeled")
        XCTAssertEqual(escapeHTML(#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }

    /// Paths on the page are relative to its folder, `..` where they lie outside, and links are
    /// percent-encoded so that `#`, `?`, `%` and spaces stay part of a name.
    func testPagePathsAreRelative() throws {
        let root = try makeTempDir(self)
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        XCTAssertEqual(ReportPage.relativePath(root + "/a/b/c.png", from: root), "a/b/c.png")
        XCTAssertEqual(ReportPage.relativePath(root + "/a/./b/../b", from: root + "/a/"), "b")
        XCTAssertEqual(ReportPage.relativePath(root + "/x/y.png", from: root + "/a/b"), "../../x/y.png")
        XCTAssertEqual(ReportPage.relativePath(root + "/a", from: root + "/a"), ".")
        // A link is followed by the browser, not by the page: the path goes through it.
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/a/b")
        XCTAssertEqual(ReportPage.relativePath(root + "/link/c.png", from: root), "link/c.png")
        XCTAssertEqual(ReportPage.urlPath("../L1 run/#1?%.png"), "../L1%20run/%231%3F%25.png")
        XCTAssertEqual(
            ReportPage.urlPath("models/L1_20261130-023035/samples/epoch_0002.png"),
            "models/L1_20261130-023035/samples/epoch_0002.png")
    }

    func testConfigurationArgumentsRoundTrip() throws {
        var config = TrainConfig()
        config.imageSize = [16, 48]; config.widths = [8, 16]; config.learningRate = 2e-3; config.earlyStopping = false
        config.useMixPrecision = true; config.seed = 9
        let words = config.arguments()
        XCTAssertEqual(words.first, "--image_size")
        XCTAssertFalse(words.contains("--batch_size"), "settings at their default are left out")
        // The words as the command line would split them: an option and the values up to the next.
        var parsed = TrainConfig(), key: String?, values: [String] = []
        for w in words + ["--"] {
            if w.hasPrefix("--") {
                if let k = key { try parsed.set(k, words: values) }
                key = String(w.dropFirst(2)); values = []
            } else {
                values.append(w)
            }
        }
        XCTAssertEqual(parsed, config)
        XCTAssertEqual(TrainConfig().arguments(), [])
    }

    /// Every label gets about the same number of optimizer steps whatever its image count, and
    /// the demo's command lines parse.
    func testDemoPlanGivesEveryLabelItsSteps() {
        for quick in [false, true] {
            let plan = DemoPlan(outDir: "d", seed: 5, quick: quick, threads: 1)
            for images in [4, 6, 9, 15, 40] {
                let c = plan.trainConfig(images: images)
                let steps = c.numEpochs * (images / c.batchSize)
                XCTAssertGreaterThanOrEqual(steps, plan.stepsPerLabel)
                XCTAssertLessThan(steps, plan.stepsPerLabel + images / c.batchSize, "no more than one extra epoch")
                XCTAssertNoThrow(try c.validate())
            }
        }
        XCTAssertEqual(
            DemoPlan.shellLine(["report", "--title", "rivers demo", "--out", "a'b"]),
            #"rivers report --title 'rivers demo' --out 'a'\''b'"#)
    }

}
