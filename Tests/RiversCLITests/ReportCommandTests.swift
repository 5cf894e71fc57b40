// `rivers report` and the quick demo through the executable.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ReportCommandTests: XCTestCase {
    /// A run of a tiny model: the report shows its loss, grids, images and check; it replaces a
    /// page of its own and nothing else.
    func testReportOfARun() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let train = try runRivers([
            "train", "--in_dir", root + "/raw/1", "--out_dir", root + "/models", "--image_size", "8", "24",
            "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2",
            "--num_epochs", "4", "--generate_on_epoch", "2", "--images_to_generate", "3",
            "--generate_diffusion_steps", "2", "--quiet",
        ])
        XCTAssertEqual(train.status, 0, train.err)
        let out = root + "/page.html"
        let r = try runRivers([
            "report", "--model_dir", root + "/models", "--dataset", root, "--out", out, "--label_measure", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("report: \(out) (1 run"), r.out)
        XCTAssertTrue(r.out.contains("L1 "), "the measure table is printed: \(r.out)")
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(html.contains(ReportPage.generatorTag))
        XCTAssertTrue(html.contains("<h2>Label 1: "))
        XCTAssertTrue(
            html.contains("epoch 2</figcaption>") && html.contains("epoch 4</figcaption>"), "both sample grids")
        XCTAssertTrue(html.contains("generated (3)"))
        XCTAssertTrue(html.contains("real, training images (7)"))
        XCTAssertTrue(html.contains("Memorization check"))
        XCTAssertTrue(html.contains("<polyline"), "the loss curve")
        XCTAssertTrue(html.contains("before balance") && html.contains("<td>category 2</td>"))
        XCTAssertFalse(html.contains("src=\"http"), "nothing from the network")
        // Every embedded image decodes.
        let uris = html.components(separatedBy: "src=\"data:image/").dropFirst()
        XCTAssertGreaterThan(uris.count, 8)
        for uri in uris {
            let kind = uri.hasPrefix("png") ? "x.png" : "x.jpg"
            let base64 = uri.split(separator: ",", maxSplits: 1)[1].prefix { $0 != "\"" }
            XCTAssertNoThrow(try ImageFile.decode(Data(base64Encoded: String(base64))!, path: kind))
        }
        // Its own page is replaced; another file is refused and left as it was.
        XCTAssertEqual(try runRivers(["report", "--model_dir", root + "/models", "--out", out, "--quiet"]).status, 0)
        writeFile(root + "/notes.html", Data("<p>mine</p>".utf8))
        let refused = try runRivers(["report", "--model_dir", root + "/models", "--out", root + "/notes.html"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("exists and is not a page rivers report wrote"), refused.err)
        XCTAssertEqual(try String(contentsOfFile: root + "/notes.html", encoding: .utf8), "<p>mine</p>")
        // --overview writes a new file only: an existing one is refused before the page is written.
        writeFile(root + "/taken.jpg", Data("mine".utf8))
        let overview = try runRivers([
            "report", "--model_dir", root + "/models", "--out", root + "/y.html", "--overview", root + "/taken.jpg",
        ])
        XCTAssertEqual(overview.status, 1)
        XCTAssertTrue(overview.err.contains("taken.jpg: already exists"), overview.err)
        XCTAssertEqual(FileManager.default.contents(atPath: root + "/taken.jpg"), Data("mine".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/y.html"))
        let notRun = try runRivers(["report", "--model_dir", root + "/raw", "--out", root + "/x.html"])
        XCTAssertEqual(notRun.status, 1)
        XCTAssertTrue(notRun.err.contains("is not a run directory"), notRun.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/x.html"))
    }

    /// The whole demo on its quick configuration: every step's output exists, the report lists
    /// every label, and a second demo into the same folder is refused without touching it.
    func testQuickDemoEndToEnd() throws {
        let root = try makeTempDir(self) + "/demo"
        let r = try runRivers(["demo", "--quick", "--out_dir", root, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        for step in [
            "rivers synthesize", "rivers balance", "rivers train", "rivers infer", "rivers augment", "rivers report",
        ] {
            XCTAssertTrue(r.out.contains("$ " + step), step)
        }
        XCTAssertTrue(r.out.contains("demo finished in"), r.out)
        XCTAssertTrue(r.out.contains("label pairs whose real photos are in order of water: "), r.out)
        XCTAssertEqual(listing(root + "/raw").filter { $0.hasSuffix(".JPG") }.count, 40)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: root + "/diffusion_data").filter { !$0.hasPrefix(".") }
                .sorted(),
            (1...6).map { "L\($0)" })
        let runs = try RunSummary.expand([root + "/models"])
        XCTAssertEqual(try runs.map { try RunDirectory($0).record().label }.sorted(), Array(1...6))
        let balanced = (1...6).map { listing(root + "/balanced_data/\($0)").filter { $0.hasSuffix(".JPG") }.count }
        XCTAssertEqual(
            balanced[0..<3].reduce(0, +), balanced[3..<6].reduce(0, +), "augment evened out the categories: \(balanced)"
        )
        let html = try String(contentsOfFile: root + "/report.html", encoding: .utf8)
        for label in 1...6 {
            XCTAssertTrue(html.contains("<h2>Label \(label): "), "label \(label)")
            XCTAssertTrue(html.contains("<td>L\(label)</td><td class=\"n\">"), "label \(label) in the measure table")
        }
        XCTAssertTrue(html.contains("after augment"))
        let before = listing(root)
        let again = try runRivers(["demo", "--quick", "--out_dir", root])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("exists and is not empty"), again.err)
        XCTAssertEqual(listing(root), before)
        // Bad values and a file where the folder would be: one-line errors, nothing written.
        let parent = (root as NSString).deletingLastPathComponent
        for (args, status, message) in [
            (["--steps", "0"], Int32(2), "--steps must be 1 to 1000000, got 0"),
            (["--steps", "-3"], 2, "--steps must be 1 to 1000000, got -3"),
            (["--steps", "nan"], 2, "--steps must be a whole number"),
            (["--seed", "-1"], 2, "--seed must be a whole number"),
        ] {
            let bad = try runRivers(["demo", "--quick", "--out_dir", parent + "/bad"] + args)
            XCTAssertEqual(bad.status, status, "\(args)")
            XCTAssertTrue(bad.err.contains(message), bad.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: parent + "/bad"), "\(args)")
        }
        writeFile(parent + "/file", Data("x".utf8))
        let file = try runRivers(["demo", "--quick", "--out_dir", parent + "/file"])
        XCTAssertEqual(file.status, 1)
        XCTAssertTrue(file.err.contains("exists and is not a folder"), file.err)
        XCTAssertEqual(FileManager.default.contents(atPath: parent + "/file"), Data("x".utf8))
    }
}
