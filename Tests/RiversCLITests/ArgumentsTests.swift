// The command-line parser: both spellings, defaults, and one-line errors with suggestions.
import Foundation
import XCTest
import Rivers
import RiversCLI
import RiversTestSupport

/// A group of settings to parse: rows as every command's.
struct Sample: SettingGroup {
    var inDir = ""
    var fact = 1.3
    var widths: [Int] = [8]
    var dryRun = false
    static let name = "sample"
    static let settings: [Setting<Sample>] = [
        Setting("in_dir", "input", \.inDir, placeholder: "DIR", range: .nonEmpty),
        Setting("fact", "zoom", \.fact, placeholder: "X", range: .between(1, 10)),
        Setting("widths", "widths", \.widths, placeholder: "W", range: .list(count: 1...4, each: 8...64)),
        Setting("dry_run", "plan only", \.dryRun, flag: true),
    ]
}

final class ArgumentsTests: XCTestCase {
    let command = Command(
        name: "demo", abstract: "test command", summary: "test command", options: Sample.options(required: ["in_dir"])
    ) { _ in 0 }

    func testBothSpellingsAndDefaults() throws {
        let a = try command.parse(["--in-dir", "x", "--widths", "16", "24", "32", "--dry_run"]).resolve(Sample())
        XCTAssertEqual(a.inDir, "x")
        XCTAssertEqual(a.fact, 1.3)
        XCTAssertEqual(a.widths, [16, 24, 32])
        XCTAssertTrue(a.dryRun)
        let b = try command.parse(["--in_dir=y", "--fact=2.5", "--dry_run=false"]).resolve(Sample())
        XCTAssertEqual(b.inDir, "y")
        XCTAssertEqual(b.fact, 2.5)
        XCTAssertFalse(b.dryRun)
    }

    func testErrorsNameTheProblem() {
        func message(_ args: [String]) -> String {
            do { _ = try command.parse(args).resolve(Sample()); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(
            message(["--in_dri", "x"]), "unknown option '--in_dri' for 'rivers demo' (did you mean '--in_dir'?)")
        XCTAssertEqual(message(["--in_dir", "x", "--fact"]), "--fact needs a value")
        XCTAssertEqual(message([]), "missing required option --in_dir")
        XCTAssertEqual(message(["--in_dir", "x", "stray"]), "unexpected argument 'stray' (options start with --)")
        XCTAssertFalse(message(["--in_dir", "x", "--zzzzzzzz"]).contains("did you mean"))
        XCTAssertEqual(
            message(["--in_dir", "x", "--fact", "abc"]), "--fact must be a number (from 1 to 10), got 'abc'")
        XCTAssertEqual(message(["--in_dir", "x", "--fact", "nan"]), "--fact must be from 1 to 10, got nan")
        XCTAssertEqual(
            message(["--in_dir", "x", "--widths", "8", "90"]),
            "--widths must be 1 to 4 whole numbers, each 8 to 64, got 8 90")
        XCTAssertEqual(message(["--in_dir", ""]), "--in_dir must be a non-empty path, got ")
        XCTAssertEqual(message(["--in_dir", "x", "--dry_run=maybe"]), "--dry_run must be true or false, got 'maybe'")
    }

    func testHelpListsEveryOptionWithItsRangeAndDefault() {
        let usage = oneLine(command.usage(width: 80))
        for o in command.options { XCTAssertTrue(usage.contains("--\(o.name)"), o.name) }
        XCTAssertTrue(usage.contains("(from 1 to 10; default: 1.3)"), usage)
        XCTAssertTrue(usage.contains("(required)"), usage)
    }
}
