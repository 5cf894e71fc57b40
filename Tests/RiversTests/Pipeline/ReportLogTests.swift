// log.csv as the report and a resume read it: good rows kept, every other line named, and no
// content of the file (huge numbers, NaN, negative epochs, binary) makes the clock, the loss plot
// or the page trap.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ReportLogTests: XCTestCase {
    let header = "epoch,n_loss,i_loss,seconds,learning_rate"

    /// A folder with a config.json (a run of the tiny configuration whose training images are
    /// missing) and `log` as its log.csv.
    func run(_ root: String, log: String?) throws -> RunDirectory {
        let dir = RunDirectory(root + "/run")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        try dir.write(RunRecord(label: 1, inDir: root + "/nowhere", train: tinyTrainConfig()))
        try? FileManager.default.removeItem(atPath: dir.logPath)
        if let log { writeFile(dir.logPath, Data(log.utf8)) }
        return dir
    }

    func testClockNeverTraps() {
        XCTAssertEqual(ProgressBar.clock(0), "0:00")
        XCTAssertEqual(ProgressBar.clock(-0.2), "0:00", "rounds to zero")
        XCTAssertEqual(ProgressBar.clock(59.6), "1:00")
        XCTAssertEqual(ProgressBar.clock(3600), "1:00:00")
        XCTAssertEqual(ProgressBar.clock(999 * 3600 + 3599), "999:59:59")
        for value in [Double.nan, .infinity, -.infinity, -1, -1e308] {
            XCTAssertEqual(ProgressBar.clock(value), "-", "\(value)")
        }
        for value: Double in [1000 * 3600, 1e12, 1e308, Double.greatestFiniteMagnitude, 9.3e18] {
            XCTAssertEqual(ProgressBar.clock(value), ">999h", "\(value)")
        }
    }

    /// Every line that is not a good row is named with its number and reason; the good rows are
    /// kept (epochs increasing); blank lines are skipped but counted.
    func testReadLogKeepsGoodRowsAndNamesTheOthers() throws {
        let root = try makeTempDir(self)
        let lines = [
            header,
            "1,0.5,0.6,2.5,1e-3",  // 2: good
            "2,nan,inf,0.1,1e-3",  // 3
            "2,-inf,nan,0.1,1e-3",  // 4
            "3,1e308,1e308,1e308,1",  // 5: finite but past Float32
            "9223372036854775807,0.5,0.5,0.1,1e-3",  // 6
            "-5,0.4,0.4,0.1,1e-3",  // 7
            "",  // 8: blank
            "2,abc,0.4,0.1,1e-3",  // 9
            "2,0.4,0.4",  // 10: missing cells
            "4,0.4,0.3,1e10,1e-3",  // 11: seconds past the bound
            "3,0.45,0.55,3.0,1e-3",  // 12: good
            "3,0.4,0.4,3.0,1e-3",  // 13: epoch does not increase
            "5,-0.1,0.4,1,1e-3",  // 14: negative loss
            "6,0.3,0.4,1,1e-3\r",  // 15: good (a CRLF line end)
        ]
        let dir = try run(root, log: lines.joined(separator: "\n") + "\n")
        let contents = dir.readLogContents()
        XCTAssertTrue(contents.readable)
        XCTAssertEqual(contents.rows.map(\.epoch), [1, 3, 6])
        XCTAssertEqual(
            contents.rows[0],
            EpochLog(epoch: 1, nLoss: 0.5, iLoss: 0.6, validation: nil, seconds: 2.5, learningRate: 1e-3))
        XCTAssertEqual(contents.problems.map(\.line), [3, 4, 5, 6, 7, 9, 10, 11, 13, 14])
        let reasons = Dictionary(uniqueKeysWithValues: contents.problems.map { ($0.line, $0.reason) })
        XCTAssertEqual(reasons[3], "has n_loss nan, not finite")
        XCTAssertEqual(reasons[5], "has n_loss 1e308, not within 0 to 3.40282e+38")
        XCTAssertEqual(reasons[6], "has epoch '9223372036854775807', not a whole number from 1 to 10000000")
        XCTAssertEqual(reasons[9], "has n_loss 'abc', not a number")
        XCTAssertEqual(reasons[10], "has 3 cells, the header 5")
        XCTAssertEqual(reasons[11], "has seconds 1e10, not within 0 to 1e+09")
        XCTAssertEqual(reasons[13], "has epoch 3, not after epoch 3 above it")
        let summary = try XCTUnwrap(contents.summary(dir.logPath))
        XCTAssertTrue(
            summary.hasPrefix(dir.logPath + ": 10 lines left out: line 3 has n_loss nan, not finite; line 4 "),
            summary)
        XCTAssertTrue(summary.hasSuffix("; and 5 more lines"), summary)
        XCTAssertFalse(summary.contains("\n"))
        // The strict reading names the first bad line.
        assertFileError(try dir.readLog(), path: dir.logPath, reason: "line 3 has n_loss nan")
        // Validation columns: "nan" in both (what the writer puts for a row without one) is no validation.
        _ = try run(
            root,
            log:
                "epoch,n_loss,i_loss,val_n_loss,val_i_loss,seconds,learning_rate\n1,1,2,nan,nan,1,1e-3\n2,1,2,0.5,0.7,1,1e-3\n3,1,2,inf,0.7,1,1e-3\n"
        )
        let validated = dir.readLogContents()
        XCTAssertEqual(validated.rows.map(\.epoch), [1, 2])
        XCTAssertNil(validated.rows[0].validation)
        XCTAssertEqual(validated.rows[1].validation?.iLoss, 0.7)
        XCTAssertEqual(validated.problems, [RunDirectory.LogProblem(line: 4, reason: "has val_n_loss inf, not finite")])
    }

    /// A header that is not a log's makes the whole file unreadable, named by its line; a missing
    /// or empty file is an empty log, not a problem.
    func testUnreadableLogIsNamedNotEmpty() throws {
        let root = try makeTempDir(self)
        let dir = try run(root, log: "epoch,n_loss\n1,abc\n")
        let contents = dir.readLogContents()
        XCTAssertFalse(contents.readable)
        XCTAssertEqual(contents.rows.count, 0)
        XCTAssertEqual(
            contents.summary(dir.logPath),
            "\(dir.logPath): unreadable: line 1 is not a training log header (no i_loss, seconds, learning_rate column)"
        )
        for empty in [nil, "", "\n\n"] {
            _ = try run(root, log: empty)
            XCTAssertTrue(dir.readLogContents().readable)
            XCTAssertEqual(dir.readLogContents().problems, [])
            XCTAssertEqual(try dir.readLog(), [])
        }
        try FileManager.default.removeItem(atPath: dir.logPath)
        try FileManager.default.createDirectory(atPath: dir.logPath, withIntermediateDirectories: true)
        XCTAssertEqual(dir.readLogContents().summary(dir.logPath), "\(dir.logPath): unreadable: is a folder, not a log")
        try FileManager.default.removeItem(atPath: dir.logPath)
        var rng = SeededGenerator(seed: 60)
        writeFile(dir.logPath, Data((0..<3000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
        XCTAssertEqual(dir.readLogContents().problems.map(\.line), [1])
        XCTAssertFalse(dir.readLogContents().readable)
    }

    /// The plot takes any rows: epochs at Int's ends, out of order, non-finite and huge values.
    func testLossPlotNeverTraps() {
        func row(_ epoch: Int, _ value: Double) -> EpochLog {
            EpochLog(
                epoch: epoch, nLoss: value, iLoss: value, validation: (value, value), seconds: value, learningRate: 1)
        }
        let hostile: [[EpochLog]] = [
            [],
            [row(Int.max, 0.5), row(-5, 0.4)],
            [row(Int.min, 1), row(-9_223_372_036_854_775_807, 1), row(1, 1)],
            [row(1, .nan), row(2, -.infinity), row(3, 1e308), row(4, .greatestFiniteMagnitude)],
            [row(5, 1), row(2, 3), row(9, -1), row(RunDirectory.maxLoggedEpoch, 2)],
        ]
        for rows in hostile {
            let svg = LossPlot.svg(rows)
            XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        }
        // Out of order, the rows are drawn from the least epoch (at the plot's left edge, x 66) to the
        // greatest (its right edge, x 544), not off the plot.
        let svg = LossPlot.svg([row(3, 1), row(1, 2)])
        XCTAssertTrue(svg.contains(#"points="66.0,"#) && svg.contains(" 544.0,"), svg)
    }

    /// One panel per loss, each on its own axis: n_loss's range covers n_loss and val_n_loss only,
    /// so i_loss's spikes (7.5 here, ten times its level) do not flatten it; each panel has a
    /// title, axis labels and a legend; the moving average is bent little by a single spike.
    func testLossPlotHasOnePanelPerLossOnItsOwnAxis() throws {
        let rows = (1...40).map { e -> EpochLog in
            let n = 0.1 * pow(0.98, Double(e)), i = e == 20 ? 7.5 : 0.6 * pow(0.99, Double(e))
            return EpochLog(
                epoch: e, nLoss: n, iLoss: i, validation: (n * 1.1, i * 1.2), seconds: 1, learningRate: 1e-3)
        }
        let panels = LossPlot.panels(rows)
        XCTAssertEqual(panels.map(\.loss), ["n_loss", "i_loss"])
        XCTAssertEqual(panels[0].series.map(\.name), ["n_loss", "val_n_loss"])
        XCTAssertEqual(panels[1].series.map(\.name), ["i_loss", "val_i_loss"])
        let n = rows.flatMap { [$0.nLoss, $0.validation!.nLoss] },
            i = rows.flatMap { [$0.iLoss, $0.validation!.iLoss] }
        for (panel, values, others) in [(panels[0], n, i), (panels[1], i, n)] {
            XCTAssertTrue(values.allSatisfy(panel.yRange.contains), "\(panel.loss): its own values are on the axis")
            XCTAssertLessThan(
                panel.yRange.upperBound / panel.yRange.lowerBound, 2 * values.max()! / values.min()!,
                "\(panel.loss): the axis is no wider than its own values (and a margin)")
            if panel.loss == "n_loss" {
                XCTAssertLessThan(panel.yRange.upperBound, others.min()!, "no i_loss value on n_loss's axis")
            }
            // The gridline labels stay within the panel's own range.
            let svg = LossPlot.svg(panel)
            let ticks = svg.components(separatedBy: #"text-anchor="end">"#).dropFirst().compactMap {
                Double($0.prefix { $0 != "<" })
            }
            XCTAssertGreaterThanOrEqual(ticks.count, 3, svg)
            XCTAssertTrue(ticks.allSatisfy(panel.yRange.contains), "\(panel.loss): \(ticks) in \(panel.yRange)")
            for label in [">epoch<", ">\(panel.loss) (log scale)<", ">\(panel.title)<"] {
                XCTAssertTrue(svg.contains(label), "\(panel.loss): \(label)")
            }
            for name in ["per epoch", "moving average"] {
                XCTAssertTrue(
                    svg.contains(">\(panel.loss) \(name)<") && svg.contains(">val_\(panel.loss) \(name)<"), name)
            }
            XCTAssertEqual(svg.components(separatedBy: #"class="smoothed""#).count - 1, 2, "training and validation")
            XCTAssertEqual(svg.components(separatedBy: #"class="raw""#).count - 1, 2)
        }
        // The spike at epoch 20 stays among the raw values; the average rises by far less.
        let smoothed = try XCTUnwrap(panels[1].series[0].smoothed.first { $0.epoch == 20 }?.value)
        XCTAssertLessThan(smoothed, 1.5, "the geometric average of 0.5 and one 7.5")
        XCTAssertEqual(panels[1].series[0].points.first { $0.epoch == 20 }?.value, 7.5)
        // loss.svg is the same two panels in one picture.
        let file = LossPlot.svg(rows)
        XCTAssertEqual(file.components(separatedBy: #"<svg class="panel""#).count - 1, 2)
        XCTAssertTrue(file.hasPrefix(#"<svg xmlns="http://www.w3.org/2000/svg""#))
        // A short log (under 10 epochs) has no average: its values are drawn as the curve.
        let short = LossPlot.svg(LossPlot.panels(Array(rows.prefix(4)))[0])
        XCTAssertFalse(short.contains("smoothed"))
        XCTAssertTrue(short.contains(#"class="raw""#) && short.contains(#"stroke-opacity="1""#))
    }

    /// The page of a run whose log has bad rows shows the good ones and names the others, and the
    /// page of an unreadable log says so; no content of log.csv makes it trap.
    func testReportPageOfHostileLogs() throws {
        let root = try makeTempDir(self)
        var rng = SeededGenerator(seed: 12)
        let random = (0..<4).map { _ in
            String(decoding: (0..<3000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, as: UTF8.self)
        }
        let hostile: [(String, String)] =
            [
                (
                    header + "\n1,nan,inf,0.1,1e-3\n2,-inf,nan,0.1,1e-3\n3,1e308,1e308,1e308,1\n",
                    "3 lines left out: line 2 "
                ),
                (
                    header + "\n9223372036854775807,0.5,0.5,0.1,1e-3\n-5,0.4,0.4,0.1,1e-3\n",
                    "line 2 has epoch '9223372036854775807'"
                ),
                (header + "\n1,0.5,0.5,1e9,1e-3\n2,0.4,0.4,1e9,1e-3\n3,0.4,0.4,1e9,1e-3\n", ""),
                ("epoch,n_loss\n1,abc\n", "unreadable: line 1 is not a training log header"),
                (header + "\n\n\n,,,,\n1\n1,2,3,4,5,6\n", "3 lines left out"),
                (header + "\n1,0.5,0.5,0.1,1e-3\n" + random[0], "left out"),
                ("\u{0}\u{1}\u{FFFF},\n\u{7F}", "unreadable: line 1"),
                (",,,,,,\n", "unreadable: line 1"),
                (
                    header + "," + header + "\n",
                    "unreadable: line 1 is not a training log header: a column is named twice"
                ),
            ] + random.map { ($0, "unreadable: line 1") }
        for (k, (log, expected)) in hostile.enumerated() {
            let dir = try run(root, log: log)
            let summary = try RunSummary.load(dir.path)
            var page = ReportPage(runs: [summary])
            page.pageFolder = root
            let html = try page.html()
            XCTAssertTrue(html.hasSuffix("</html>\n"), "log \(k)")
            if expected.isEmpty {
                XCTAssertNil(summary.logProblem, "log \(k)")
            } else {
                XCTAssertTrue(
                    summary.logProblem?.contains(expected) ?? false, "log \(k): \(summary.logProblem ?? "nil")")
                XCTAssertTrue(
                    html.contains(escapeHTML(summary.logContents.summary("run/log.csv")!)),
                    "log \(k): the page names the lines, by the path from the page")
                XCTAssertFalse(html.contains("No epoch has finished yet"), "log \(k)")
            }
        }
        // The first case of the probe: nothing usable, the page says so; the third: a long run's clock.
        let dir = try run(root, log: hostile[0].0)
        var page = ReportPage(runs: [try RunSummary.load(dir.path)])
        page.pageFolder = root
        let html = try page.html()
        XCTAssertTrue(html.contains("No loss curves: log.csv has no usable row."))
        XCTAssertTrue(
            html.contains(
                escapeHTML(
                    "run/log.csv: 3 lines left out: line 2 has n_loss nan, not finite; line 3 has n_loss -inf, not finite; line 4 has n_loss 1e308, not within 0 to 3.40282e+38"
                )))
        _ = try run(root, log: hostile[2].0)
        XCTAssertTrue(try ReportPage(runs: [try RunSummary.load(dir.path)]).html().contains("training time &gt;999h"))
    }

    /// A resume drops log rows that cannot be used (with the rows past the checkpoint) and goes
    /// on; a log.csv that is not a log at all stops it before anything is written.
    func testResumeDropsBadLogRows() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/1", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = 2; c.imagesToGenerate = 0
        let load = TrainingImages.load(try TrainingImages.scan(root + "/data").images, height: c.height, width: c.width)
        let dir = RunDirectory(root + "/run")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let record = RunRecord(label: 1, inDir: root + "/data", train: c)
        XCTAssertEqual(try TrainingRun.start(in: dir, record: record, data: load.images).train(), .finished)
        let good = try dir.readLog()
        XCTAssertEqual(good.map(\.epoch), [1, 2])
        let csv = RunDirectory.csv(good, validation: false).split(separator: "\n").map(String.init)
        writeFile(
            dir.logPath,
            Data(
                ([csv[0], csv[1], "-9223372036854775807,0.5,0.5,0.1,1e-3", csv[2], "3,0.5,0.5,0.1,1e-3"]
                    .joined(separator: "\n") + "\n").utf8))
        var more = record
        more.train.numEpochs = 3
        let resumed = try TrainingRun.resume(dir, record: more, data: load.images)
        XCTAssertEqual(resumed.log, good, "the bad row and the row past the checkpoint are dropped")
        XCTAssertEqual(try resumed.train(), .finished)
        XCTAssertEqual(try dir.readLog().map(\.epoch), [1, 2, 3])
        // An unreadable log: refused naming the file, which is left as it was.
        let garbage = Data("epoch,n_loss\n1,abc\n".utf8)
        writeFile(dir.logPath, garbage)
        more.train.numEpochs = 4
        assertFileError(
            try TrainingRun.resume(dir, record: more, data: load.images), path: dir.logPath,
            reason: "line 1 is not a training log header (no i_loss, seconds, learning_rate column); move it away")
        XCTAssertEqual(FileManager.default.contents(atPath: dir.logPath), garbage)
    }
}
