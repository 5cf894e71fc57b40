// The command-line parser: both spellings, defaults, and one-line errors with suggestions.
import Foundation
import XCTest
import Rivers

final class ArgumentsTests: XCTestCase {
    let command = Command(name: "demo", summary: "test command", options: [
        Option(name: "in_dir", help: "input", required: true),
        Option(name: "fact", help: "zoom", defaultValue: "1.3"),
        Option(name: "widths", help: "widths", arity: .many),
        Option(name: "dry_run", help: "plan only", arity: .flag),
    ]) { _ in 0 }

    func testBothSpellingsAndDefaults() throws {
        let a = try command.parse(["--in-dir", "x", "--widths", "1", "2", "3", "--dry_run"])
        XCTAssertEqual(a.string("in_dir"), "x")
        XCTAssertEqual(try a.double("fact"), 1.3)
        XCTAssertEqual(a.values["widths"], ["1", "2", "3"])
        XCTAssertTrue(a.has("dry_run"))
        let b = try command.parse(["--in_dir=y", "--fact=2.5"])
        XCTAssertEqual(b.string("in_dir"), "y")
        XCTAssertEqual(try b.double("fact"), 2.5)
        XCTAssertFalse(b.has("dry_run"))
    }

    func testErrorsNameTheProblem() {
        func message(_ args: [String]) -> String {
            do { _ = try command.parse(args); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(["--in_dri", "x"]), "unknown option '--in_dri' for 'rivers demo' (did you mean '--in_dir'?)")
        XCTAssertEqual(message(["--in_dir", "x", "--fact"]), "--fact needs a value")
        XCTAssertEqual(message([]), "missing required option --in_dir")
        XCTAssertEqual(message(["--in_dir", "x", "stray"]), "unexpected argument 'stray' (options start with --)")
        XCTAssertFalse(message(["--in_dir", "x", "--zzzzzzzz"]).contains("did you mean"))
        XCTAssertThrowsError(try command.parse(["--in_dir", "x", "--fact", "abc"]).double("fact"))
    }

    func testHelpListsEveryOptionWithItsDefault() {
        let usage = command.usage
        for o in command.options { XCTAssertTrue(usage.contains("--\(o.name)"), o.name) }
        XCTAssertTrue(usage.contains("(default: 1.3)"))
        XCTAssertTrue(usage.contains("(required)"))
    }
}
