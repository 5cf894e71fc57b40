// The `rivers` executable end to end: exit statuses, one-line errors, help, dry run.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class CommandLineTests: XCTestCase {
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) { try runRivers(args) }
    var executable: URL { riversExecutable }

    func makeRaw() throws -> String {
        let root = try makeTempDir(self) + "/raw"
        try SampleDataset.write(to: root, labels: 3, width: 24, height: 8)
        return root
    }

    func testExecutableIsBuilt() {
        XCTAssertTrue(
            FileManager.default.isExecutableFile(atPath: executable.path),
            "rivers not found beside \(CommandLine.arguments[0])")
    }

    func testVersionAndHelp() throws {
        XCTAssertTrue(try run(["--version"]).out.hasPrefix("rivers "))
        let help = try run(["balance", "--help"])
        XCTAssertEqual(help.status, 0)
        for option in ["--in_dir", "--out_dir", "--labels", "--theta", "--fact", "--multiplier", "--seed", "--dry_run"]
        {
            XCTAssertTrue(help.out.contains(option), option)
        }
        XCTAssertTrue(oneLine(help.out).contains("default: 1.3)"))
    }

    /// Option values that used to pass the checks and crash later (a zoom reaching 0, an angle
    /// too large for a file name, a ladder built in memory), and out-of-range values: usage errors
    /// (status 2) naming the option, under --dry_run too, before anything is written.
    func testOutOfRangeBalanceValuesAreUsageErrors() throws {
        let raw = try makeRaw()
        let out = try makeTempDir(self) + "/out"
        let cases: [([String], String)] = [
            (["--fact", "0.5"], "--fact must be a zoom of at least 1"),
            (["--fact", "0.9", "--multiplier", "12"], "--fact must be a zoom of at least 1"),
            (["--fact", "1e-300"], "--fact must be a zoom of at least 1"),
            (["--fact", "nan"], "--fact must be a zoom of at least 1"),
            (["--fact", "100", "--multiplier", "12"], "the largest zoom is 1000"),
            (["--theta", "1e308"], "--theta must be a non-zero number of degrees from -360 to 360"),
            (["--theta", "0"], "--theta must be a non-zero number"),
            (["--multiplier", "0"], "--multiplier must be 1 to 1000"),
            (["--multiplier", "100000000"], "--multiplier must be 1 to 1000"),
            (["--labels", "7"], "--labels must be 3 or 6"),
            (["--jpeg_quality", "0"], "--jpeg_quality must be 1 to 100"),
            (["--threads", "-1"], "--threads must be 1 to 256"),
        ]
        for (flags, message) in cases {
            for dry in [false, true] {
                let r = try run(["balance", "--in_dir", raw, "--out_dir", out] + flags + (dry ? ["--dry_run"] : []))
                XCTAssertEqual(r.status, 2, "\(flags): \(r.err)")
                XCTAssertTrue(r.err.contains(message), "\(flags): \(r.err)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(flags) wrote something")
            }
        }
        let help = try run(["balance", "-h"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.out.contains("--in_dir"), help.out)
        // The list of commands shows each command's one-line abstract.
        let main = try run(["--help"])
        XCTAssertTrue(
            main.out.contains("balance     Balance each label's camera sites with rotated and flipped copies."),
            main.out)
    }

    func testUsageErrorsAreOneLineWithStatusTwo() throws {
        let raw = try makeRaw()
        for (args, expected) in [
            (["balance", "--in_dir", raw, "--fcat", "2"], "did you mean '--fact'?"),
            (["balanse"], "did you mean 'balance'?"),
            (["balance"], "missing required option --in_dir"),
        ] {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.err.contains(expected), r.err)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
        }
    }

    func testDryRunPrintsThePlanAndWritesNothing() throws {
        let raw = try makeRaw()
        let out = (raw as NSString).deletingLastPathComponent + "/out"
        let r = try run(["balance", "--in-dir", raw, "--out-dir", out, "--dry-run"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("label  site  before  added  after"), r.out)
        XCTAssertTrue(r.out.contains("nothing was written"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// The plan's table: each number ends under the end of its header (label, before, added,
    /// after), each site starts under "site".
    func testBalanceTableColumnsLineUp() throws {
        let raw = try makeRaw()
        let r = try run(["balance", "--in_dir", raw, "--out_dir", raw + "-out", "--dry_run"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").map { Array($0) }
        let h = try XCTUnwrap(lines.firstIndex { String($0).hasPrefix("label") }, r.out)
        let header = String(lines[h])
        XCTAssertEqual(header, "label  site  before  added  after  note")
        let rows = lines[(h + 1)...].prefix { !String($0).hasPrefix("dry run") }
        // The sites of labels 1 to 3 in SampleDataset.layout.
        XCTAssertEqual(rows.count, 8, r.out)
        XCTAssertEqual(String(rows.first!).split(separator: " "), ["1", "S1", "4", "0", "4"], r.out)
        func offset(_ i: String.Index) -> Int { header.distance(from: header.startIndex, to: i) }
        let site = offset(header.range(of: "site")!.lowerBound)
        for row in rows {
            for name in ["label", "before", "added", "after"] {
                let end = offset(header.range(of: name)!.upperBound)
                XCTAssertTrue(row[end - 1].isNumber, "\(name) in:\n\(header)\n\(String(row))")
                XCTAssertTrue(end == row.count || row[end] == " ", "\(name) in:\n\(header)\n\(String(row))")
            }
            XCTAssertTrue(row[site] == "S" && row[site - 1] == " ", "site in:\n\(header)\n\(String(row))")
        }
    }

    func testMissingLabelFolderIsOneLineErrorAndNothingIsWritten() throws {
        let raw = try makeRaw()
        let out = (raw as NSString).deletingLastPathComponent + "/out"
        let r = try run(["balance", "--in_dir", raw, "--out_dir", out, "--labels", "6"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err, "rivers: error: \(raw)/4: label folder is missing\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testCtrlCStopsCleanlyAndARerunCompletes() throws {
        let root = try makeTempDir(self)
        let raw = root + "/raw"
        // Label 1: one site of 60 and one of 5 (55 augmentations to reach 60: 120 files); labels 2, 3: one image each.
        for i in 0..<60 {
            writeFile("\(raw)/1/A_\(i).JPG", try JPEG.encode(patternImage(width: 600, height: 200, seed: i)))
        }
        for i in 0..<5 {
            writeFile("\(raw)/1/B_\(i).JPG", try JPEG.encode(patternImage(width: 600, height: 200, seed: 100 + i)))
        }
        for label in 2...3 {
            writeFile("\(raw)/\(label)/C_0.JPG", try JPEG.encode(patternImage(width: 60, height: 20)))
        }
        let out = root + "/out", label1 = out + "/diffusion_data/L1/1"
        let process = Process()
        process.executableURL = executable
        process.arguments = ["balance", "--in_dir", raw, "--out_dir", out, "--quiet", "--threads", "1"]
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        // Interrupt as soon as the first augmented image exists.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline
            && !((try? FileManager.default.contentsOfDirectory(atPath: label1)) ?? []).contains(where: {
                $0.hasPrefix("B_") && $0.contains("_5_")
            })
        {
            usleep(1000)
        }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, "the run should stop on Ctrl-C, not finish")
        let names = try FileManager.default.contentsOfDirectory(atPath: label1)
        XCTAssertLessThan(names.count, 120, "stopped before writing everything")
        XCTAssertFalse(
            names.contains { $0.hasPrefix(".") }, "no temporary file is left: \(names.filter { $0.hasPrefix(".") })")
        for name in names { XCTAssertNoThrow(try ImageFile.read(label1 + "/" + name), name) }
        let rerun = try run(["balance", "--in_dir", raw, "--out_dir", out, "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: label1).count, 120)
    }

    func testCorruptImageIsReportedTheRestFinishesAndStatusIsOne() throws {
        let raw = try makeRaw()
        writeFile(raw + "/2/S9_broken.JPG", Data([0xFF, 0xD8, 0xFF]))
        let out = (raw as NSString).deletingLastPathComponent + "/out"
        let r = try run(["balance", "--in_dir", raw, "--out_dir", out, "--quiet"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.out.contains("failed:\n  \(raw)/2/S9_broken.JPG"), r.out)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: out + "/diffusion_data/L1/1/S3_D010125_010125_0_7_X_5_-1.JPG"))
    }
}
