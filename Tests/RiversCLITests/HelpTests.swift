// Help that reads in any terminal: wrapping to the width without losing a word, the width from
// COLUMNS and the terminal, help and version spellings, the Markdown reference, the hint for the
// original's --runtime, and --help winning over unknown options.
import Foundation
import XCTest
import Rivers
import RiversCLI
import RiversTestSupport

final class HelpTests: XCTestCase {
    /// The words of `text`, in order.
    func words(_ text: String) -> [String] { text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) }

    /// Whether `part` occurs in `whole` as consecutive elements.
    func containsRun(_ whole: [String], _ part: [String]) -> Bool {
        guard !part.isEmpty else { return true }
        guard whole.count >= part.count else { return false }
        return (0...(whole.count - part.count)).contains { Array(whole[$0..<($0 + part.count)]) == part }
    }

    func longest(_ text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(\.count).max() ?? 0
    }

    func testWrapFillsLinesWithAHangingIndentAndKeepsEveryWord() {
        XCTAssertEqual(wrap("one two three four", width: 9), ["one two", "three", "four"])
        XCTAssertEqual(
            wrap("alpha beta gamma delta", width: 16, indent: "    ", first: "  -x  "),
            ["  -x  alpha beta", "    gamma delta"])
        // Line breaks and runs of spaces in the text are spaces.
        XCTAssertEqual(wrap("a\nb   c", width: 80), ["a b c"])
        XCTAssertEqual(wrap("", width: 80), [""])
        XCTAssertEqual(wrap("", width: 80, first: "  --flag    "), ["  --flag"])
        // A word longer than a line is cut at the width, nothing beyond it.
        XCTAssertEqual(wrap("abcdefghij k", width: 4), ["abcd", "efgh", "ij k"])
        // A word exactly as wide as the room fits.
        XCTAssertEqual(wrap("abcd efgh", width: 6, indent: "  "), ["  abcd", "  efgh"])
        XCTAssertEqual(paragraphs("a b\n c\n\n d\n"), ["a b c", "d"])
    }

    func testWidthIsColumnsThenTheTerminalThenEightyAndNeverBelowForty() {
        XCTAssertEqual(HelpWidth.resolve(columns: nil, terminal: nil), 80)
        XCTAssertEqual(HelpWidth.resolve(columns: nil, terminal: 132), 132)
        XCTAssertEqual(HelpWidth.resolve(columns: "100", terminal: 132), 100)
        XCTAssertEqual(HelpWidth.resolve(columns: "20", terminal: nil), 40)
        XCTAssertEqual(HelpWidth.resolve(columns: nil, terminal: 30), 40)
        for insane in ["", "abc", "0", "-5", "99999999"] {
            XCTAssertEqual(HelpWidth.resolve(columns: insane, terminal: nil), 80, insane)
            XCTAssertEqual(HelpWidth.resolve(columns: insane, terminal: 90), 90, insane)
        }
    }

    /// Every command's help at 80 columns: no line longer, and the same words in the same order
    /// as unwrapped (nothing lost, nothing added); the summary and every option's description
    /// read in full.
    func testEveryCommandsHelpFitsEightyColumnsAndLosesNoWord() {
        for c in RiversMain.commands {
            let wrapped = c.usage(width: 80)
            for line in wrapped.split(separator: "\n") {
                XCTAssertLessThanOrEqual(line.count, 80, "rivers \(c.name): '\(line)'")
            }
            let all = words(wrapped)
            XCTAssertEqual(all, words(c.usage(width: 100_000)), c.name)
            XCTAssertTrue(containsRun(all, words(c.summary)), "\(c.name): summary")
            for o in c.options {
                XCTAssertTrue(containsRun(all, words(o.synopsis + " " + o.described)), "\(c.name): --\(o.name)")
            }
            XCTAssertTrue(containsRun(all, words("--help show this help (also -h)")), c.name)
            // At the narrowest width too, nothing is wider than the width.
            XCTAssertLessThanOrEqual(longest(c.usage(width: 40)), 40, c.name)
            XCTAssertEqual(c.usage(width: 10), c.usage(width: 40), "never below 40")
        }
        let main = RiversMain.usage(width: 80)
        XCTAssertLessThanOrEqual(longest(main), 80)
        XCTAssertEqual(words(main), words(RiversMain.usage(width: 100_000)))
        for c in RiversMain.commands {
            XCTAssertTrue(containsRun(words(main), words(c.name + " " + c.abstract)), c.name)
        }
        XCTAssertLessThanOrEqual(longest(RiversMain.usage(width: 40)), 40)
    }

    /// A description's further lines start under its first; an option too long for the column
    /// has its description on the next line, in the column.
    func testOptionDescriptionsHangInTheirColumn() throws {
        let infer = try XCTUnwrap(RiversMain.commands.first { $0.name == "infer" })
        let lines = infer.usage(width: 80).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let column = String(repeating: " ", count: 28)
        let long = try XCTUnwrap(lines.firstIndex(of: "  --generate_diffusion_steps N"))
        XCTAssertTrue(lines[long + 1].hasPrefix(column + "sampler steps"), lines[long + 1])
        let options = try XCTUnwrap(lines.firstIndex(of: "options:"))
        for line in lines[(options + 1)...] where !line.isEmpty && !line.hasPrefix("Options may") {
            // An option's line, or a description's line starting in the column.
            XCTAssertTrue(line.hasPrefix("  --") || (line.hasPrefix(column) && line.dropFirst(28).first != " "), line)
        }
    }

    /// The executable's help, piped: at most 80 columns for every command; COLUMNS narrows it.
    func testPipedHelpIsEightyColumnsAndColumnsIsHonoured() throws {
        for args in [["--help"]] + RiversMain.commands.map({ [$0.name, "--help"] }) {
            let r = try runRivers(args, environment: ["COLUMNS": nil])
            XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            XCTAssertLessThanOrEqual(longest(r.out), 80, "\(args)")
            XCTAssertGreaterThan(longest(r.out), 60, "\(args): wrapped far narrower than 80")
        }
        let narrow = try runRivers(["train", "--help"], environment: ["COLUMNS": "50"])
        XCTAssertLessThanOrEqual(longest(narrow.out), 50)
        XCTAssertEqual(words(narrow.out), words(try runRivers(["train", "--help"]).out))
    }

    func testHelpAndVersionSpellings() throws {
        let main = try runRivers(["--help"])
        XCTAssertEqual(main.status, 0)
        XCTAssertTrue(main.out.contains("-h, --help"), main.out)
        XCTAssertTrue(main.out.contains("-V, --version"), main.out)
        for spelling in [["-h"], ["help"], []] {
            let r = try runRivers(spelling)
            XCTAssertEqual(r.status, 0, "\(spelling)")
            XCTAssertEqual(r.out, main.out, "\(spelling)")
        }
        let train = try runRivers(["train", "--help"])
        XCTAssertTrue(oneLine(train.out).contains("--help show this help (also -h)"), train.out)
        for spelling in [["train", "-h"], ["help", "train"], ["-h", "train"], ["--help", "train"]] {
            XCTAssertEqual(try runRivers(spelling).out, train.out, "\(spelling)")
        }
        for spelling in ["--version", "-V", "version"] {
            let r = try runRivers([spelling])
            XCTAssertEqual(r.status, 0, spelling)
            XCTAssertTrue(r.out.hasPrefix("rivers \(RiversMain.version)"), "\(spelling): \(r.out)")
        }
    }

    func testHelpForAnUnknownCommandIsAUsageErrorWithASuggestion() throws {
        for (args, expected) in [
            (
                ["help", "balanse"],
                "no command 'balanse' (did you mean 'balance'?); 'rivers --help' lists the commands"
            ),
            (["help", "--markdown", "infre"], "(did you mean 'infer'?)"),
            (["--help", "zzzzzz"], "no command 'zzzzzz'; 'rivers --help' lists the commands"),
            (
                ["help", "--markdwon", "train"],
                "unknown option '--markdwon' for 'rivers help' (did you mean '--markdown'?)"
            ),
            (["help", "train", "infer"], "rivers help takes one command"),
        ] {
            let r = try runRivers(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.err.contains(expected), "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertEqual(r.out, "", "\(args)")
        }
    }

    /// The original's `--runtime training|inference|inpainting`: one line naming the command.
    func testRuntimePointsAtTheCommand() throws {
        let said = "rivers: error: --runtime is the original's; rivers has subcommands: "
        for (args, expected) in [
            (["train", "--runtime", "inference"], "--runtime inference is 'rivers infer'"),
            (["train", "--in_dir", "x", "--runtime=training"], "--runtime training is 'rivers train'"),
            (["--runtime", "training"], "--runtime training is 'rivers train'"),
            (["--runtime=inpainting", "--in_dir", "x"], "--runtime inpainting is 'rivers inpaint'"),
            (["balance", "--runtime", "Inference"], "--runtime inference is 'rivers infer'"),
            (
                ["infer", "--runtime"],
                "--runtime training is 'rivers train', --runtime inference is 'rivers infer', --runtime inpainting is 'rivers inpaint'"
            ),
            (["--runtime", "sideways"], "--runtime training is 'rivers train', --runtime inference is"),
        ] {
            let r = try runRivers(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.err.hasPrefix(said + expected), "\(args): \(r.err)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            XCTAssertFalse(r.err.contains("lists the options"), r.err)
        }
    }

    /// `--help` or `-h` anywhere on the line prints the help, whatever else is there (argparse).
    func testHelpWinsOverUnknownOptions() throws {
        let train = try runRivers(["train", "--help"])
        for args in [
            ["train", "--help", "--bogus"], ["train", "--bogus", "-h"], ["train", "stray", "--help"],
            ["train", "--runtime", "inference", "--help"], ["train", "--batch_size", "0", "-h"],
        ] {
            let r = try runRivers(args)
            XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            XCTAssertEqual(r.out, train.out, "\(args)")
            XCTAssertEqual(r.err, "", "\(args)")
        }
        let main = try runRivers(["--help", "--bogus"])
        XCTAssertEqual(main.status, 0, main.err)
        XCTAssertEqual(main.out, try runRivers(["--help"]).out)
    }

    /// The cells of a Markdown table row, `\|` kept inside its cell.
    func cells(_ row: String) -> [String] {
        var out: [String] = [], cell = "", escaped = false
        for c in row {
            if c == "|" && !escaped {
                out.append(cell.trimmingCharacters(in: .whitespaces)); cell = ""
            } else {
                cell.append(c)
            }
            escaped = c == "\\" && !escaped
        }
        out.append(cell)
        return Array(out.dropFirst().dropLast())
    }

    /// `rivers help --markdown <command>`: a heading, the summary, the usage line in a code block
    /// and one table row per option, in the help's order, from the same rows as --help.
    func testMarkdownReferenceHasEveryOptionOfEveryCommand() throws {
        for c in RiversMain.commands {
            let md = c.markdown()
            let lines = md.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(lines.first, "# rivers \(c.name)")
            XCTAssertTrue(md.contains("```\n\(c.usageLine)\n```"), c.name)
            XCTAssertTrue(containsRun(words(md), words(c.summary).map { markdownEscaped($0) }), "\(c.name): summary")
            let header = try XCTUnwrap(lines.firstIndex(of: "| option | value | default | what it does |"), c.name)
            XCTAssertEqual(lines[header + 1], "| --- | --- | --- | --- |")
            let rows = lines[(header + 2)...].prefix { $0.hasPrefix("|") }
            XCTAssertEqual(rows.map { cells($0)[0] }, (c.options.map(\.name) + ["help"]).map { "`--\($0)`" }, c.name)
            for (row, o) in zip(rows, c.options) {
                let cell = cells(row)
                XCTAssertEqual(cell.count, 4, "\(c.name): \(row)")
                if let r = o.range { XCTAssertTrue(cell[1].contains(markdownEscaped(r)), "\(c.name): \(row)") }
                if o.required { XCTAssertEqual(cell[2], "required", row) }
                if let d = o.defaultValue { XCTAssertEqual(cell[2], "`\(d)`", row) }
                XCTAssertEqual(
                    cell[3].replacingOccurrences(of: "\\", with: ""), o.help.replacingOccurrences(of: "\\", with: ""),
                    row)
            }
            // No text that Markdown would take for HTML: every < is escaped.
            for line in lines where !line.hasPrefix("rivers ") {
                XCTAssertFalse(line.replacingOccurrences(of: "\\<", with: "").contains("<"), "\(c.name): \(line)")
            }
        }
        // A placeholder with a | stays in its cell.
        let train = try XCTUnwrap(RiversMain.commands.first { $0.name == "train" }).markdown()
        XCTAssertTrue(train.contains("| `--early_stopping` | `true\\|false` | `true` |"), train)
    }

    func markdownEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\<>*[]".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out.replacingOccurrences(of: "|", with: "\\|")
    }

    func testMarkdownFromTheCommandLine() throws {
        let one = try runRivers(["help", "--markdown", "balance"])
        XCTAssertEqual(one.status, 0, one.err)
        XCTAssertEqual(one.out, try XCTUnwrap(RiversMain.commands.first { $0.name == "balance" }).markdown() + "\n")
        XCTAssertEqual(try runRivers(["help", "balance", "--markdown"]).out, one.out)
        let index = try runRivers(["help", "--markdown"])
        XCTAssertEqual(index.status, 0, index.err)
        XCTAssertTrue(index.out.hasPrefix("# rivers\n"), index.out)
        for c in RiversMain.commands { XCTAssertTrue(index.out.contains("| `rivers \(c.name)` | "), c.name) }
        let all = try runRivers(["help", "--markdown", "all"])
        XCTAssertEqual(all.status, 0, all.err)
        XCTAssertTrue(all.out.hasPrefix(index.out.dropLast()), "the index first")
        for c in RiversMain.commands { XCTAssertTrue(all.out.contains("\n## rivers \(c.name)\n"), c.name) }
    }
}
