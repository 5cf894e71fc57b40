// `rivers report` and the quick demo through the executable.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ReportCommandTests: XCTestCase {
    /// The page without its embedded images names neither `root` (the folder it was written in,
    /// as given or as resolved) nor any absolute path in a link.
    func assertNoAbsolutePath(_ html: String, root: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = html.replacingOccurrences(
            of: #"data:image/[a-z]+;base64,[A-Za-z0-9+/=]*"#, with: "", options: .regularExpression)
        for path in Set([root, FileOps.canonicalPath(root)]) {
            XCTAssertFalse(text.contains(path), "the page names \(path)", file: file, line: line)
        }
        XCTAssertFalse(text.contains(#"href="/"#) || text.contains(#"href="file:"#), file: file, line: line)
    }

    /// Every link of the page that is not to a place on it names a file or folder that exists,
    /// relative to the page's folder.
    func assertLinksResolve(_ html: String, from folder: String, file: StaticString = #filePath, line: UInt = #line) {
        let links = html.components(separatedBy: #"<a href=""#).dropFirst().map { String($0.prefix { $0 != "\"" }) }
            .filter { !$0.hasPrefix("#") }
        XCTAssertGreaterThan(links.count, 10, file: file, line: line)
        for link in links {
            let path = (folder as NSString).appendingPathComponent(link.removingPercentEncoding ?? link)
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), "\(link) resolves", file: file, line: line)
        }
    }

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
        // The loss chart is two panels, on the page and in the run's loss.svg alike.
        let runDir = try XCTUnwrap(try RunSummary.expand([root + "/models"]).first)
        let runName = (runDir as NSString).lastPathComponent
        XCTAssertEqual(html.components(separatedBy: #"<svg class="panel""#).count - 1, 2)
        let lossSVG = try String(contentsOfFile: runDir + "/loss.svg", encoding: .utf8)
        XCTAssertEqual(lossSVG.components(separatedBy: #"<svg class="panel""#).count - 1, 2)
        // The heading names the run, not its folder; every path on the page is relative to it.
        XCTAssertTrue(html.contains("<h2>Label 1: \(runName)</h2>"), "the run's name in its heading")
        assertNoAbsolutePath(html, root: root)
        // Each sample grid: its epoch over it, and a link to the image file that resolves.
        for epoch in [2, 4] {
            let file = String(format: "epoch_%04d.png", epoch)
            XCTAssertTrue(
                html.contains(
                    #"<figcaption>epoch \#(epoch)</figcaption><a href="models/\#(runName)/samples/\#(file)"><img"#),
                "grid \(epoch)")
        }
        XCTAssertTrue(html.contains(#"<a href="models/\#(runName)/generated_images/"#), "generated images link")
        XCTAssertTrue(html.contains(#"<a href="raw/1/"#), "training images link")
        assertLinksResolve(html, from: root)
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

    /// Everything that can be known is checked before anything is written: an overview that cannot
    /// be made, its missing folder, or the page's own name refuse the command with no file written;
    /// a hostile log.csv gives a page and a warning naming its lines; a rerun removes the
    /// temporaries a killed report left.
    func testReportRefusesUpFrontAndSurvivesBadLogs() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 1, width: 24, height: 8)
        let train = try runRivers([
            "train", "--in_dir", root + "/raw/1", "--out_dir", root + "/models", "--image_size", "8", "24",
            "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2",
            "--num_epochs", "2", "--images_to_generate", "2", "--generate_diffusion_steps", "2", "--quiet",
        ])
        XCTAssertEqual(train.status, 0, train.err)
        let run = try XCTUnwrap(try RunSummary.expand([root + "/models"]).first)
        let d = root + "/D"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        func report(_ extra: [String], model: String = run) throws -> (status: Int32, out: String, err: String) {
            try runRivers(["report", "--model_dir", model, "--quiet"] + extra)
        }
        // 54: a missing folder for the overview; 55: the overview is the page.
        for (args, status, message) in [
            (["--out", d + "/d.html", "--overview", d + "/nodir/ov.png"], Int32(1), "\(d)/nodir: does not exist"),
            (["--out", d + "/g.html", "--overview", d + "/g.html"], 2, "--overview and --out name the same file"),
            (["--out", d + "/g.html", "--overview", d + "/./g.html"], 2, "--overview and --out name the same file"),
            (["--out", d + "/g.html", "--overview", d + "/o.html"], 2, "--overview must name a .png or .jpg file"),
        ] {
            let r = try report(args)
            XCTAssertEqual(r.status, status, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(message), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
            XCTAssertEqual(listing(d), [], "\(args): nothing written")
        }
        // 53: a run whose training images are gone has no overview: refused before the page is written.
        let moved = root + "/moved"
        try FileManager.default.copyItem(atPath: run, toPath: moved)
        let config = moved + "/config.json"
        var json = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: try XCTUnwrap(FileManager.default.contents(atPath: config)))
                as? [String: Any])
        json["in_dir"] = root + "/nowhere"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: config))
        let noOverview = try report(["--out", d + "/d.html", "--overview", d + "/ov.png"], model: moved)
        XCTAssertEqual(noOverview.status, 1, noOverview.err)
        XCTAssertTrue(noOverview.err.contains("no run has both training images and generated images"), noOverview.err)
        XCTAssertEqual(listing(d), [])
        // 38: a killed report's temporary (of a process that has ended) goes; a running one's stays.
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let stale = d + "/.st.html.\(ended.processIdentifier).7.tmp", live = d + "/.st.html.\(getpid()).7.tmp"
        writeFile(stale, Data("half".utf8))
        writeFile(live, Data("half".utf8))
        let rerun = try report(["--out", d + "/st.html", "--overview", d + "/ov.png"])
        XCTAssertEqual(rerun.status, 0, rerun.err)
        XCTAssertEqual(listing(d), [".st.html.\(getpid()).7.tmp", "ov.png", "st.html"])
        // 12, 59: hostile logs: the page is written and names the lines, and so does a warning.
        let header = "epoch,n_loss,i_loss,seconds,learning_rate\n"
        for (log, message) in [
            (
                header + "1,nan,inf,0.1,1e-3\n2,-inf,nan,0.1,1e-3\n3,1e308,1e308,1e308,1\n",
                "3 lines left out: line 2 "
            ),
            (header + "9223372036854775807,0.5,0.5,0.1,1e-3\n-5,0.4,0.4,0.1,1e-3\n", "2 lines left out: line 2 "),
            ("epoch,n_loss\n1,abc\n", "unreadable: line 1 is not a training log header"),
        ] {
            writeFile(moved + "/log.csv", Data(log.utf8))
            let r = try report(["--out", d + "/x.html", "--label_measure"], model: moved)
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertTrue(r.err.contains("warning: \(moved)/log.csv: \(message)"), r.err)
            let html = try String(contentsOfFile: d + "/x.html", encoding: .utf8)
            XCTAssertTrue(html.contains(escapeHTML("../moved/log.csv: \(message)")), message)
        }
    }

    /// The whole demo on its quick configuration: every step's output exists, the report lists
    /// every label, and a second demo into the same folder is refused without touching it.
    func testQuickDemoEndToEnd() throws {
        let root = try makeTempDir(self) + "/demo"
        let r = try runRivers(["demo", "--quick", "--out_dir", root, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        for step in [
            "rivers synthesize", "rivers split", "rivers balance", "rivers train", "rivers infer", "rivers augment",
            "rivers evaluate", "rivers report",
        ] {
            XCTAssertTrue(r.out.contains("$ " + step), step)
        }
        XCTAssertTrue(r.out.contains("demo finished in"), r.out)
        XCTAssertTrue(r.out.contains("label pairs whose real photos are in order of water: "), r.out)
        XCTAssertEqual(listing(root + "/raw").filter { $0.hasSuffix(".JPG") }.count, 120, "3 copies of 40")
        XCTAssertTrue(r.out.contains("verdict: "), r.out)
        XCTAssertTrue(try EvaluationResult.read(root + "/evaluation.json").control.passed)
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
        // The answer first: the evaluation comes before the dataset, the measure and the runs.
        let order = [
            #"<section id="evaluation">"#, #"<section id="dataset">"#, #"<section id="measure">"#,
            #"<section id="run-1""#,
        ]
        .map { html.range(of: $0)?.lowerBound }
        XCTAssertFalse(order.contains(nil), "every section is there")
        XCTAssertEqual(order.compactMap { $0 }, order.compactMap { $0 }.sorted(), "in this order")
        assertNoAbsolutePath(html, root: root)
        assertLinksResolve(html, from: root)
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
