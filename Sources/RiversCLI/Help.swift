// Help for people and for the docs: text wrapped to the terminal's width, option lists with a
// hanging indent, and the same options as a Markdown reference (so the docs cannot drift).
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `text` (one paragraph: its line breaks are spaces) as lines of at most `width` columns, words
/// kept whole and in order. The first line starts with `first` (default: `indent`), the others
/// with `indent`. A word longer than a whole line is cut at the width.
public func wrap(_ text: String, width: Int, indent: String = "", first: String? = nil) -> [String] {
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
    var lines: [String] = []
    var line = first ?? indent
    // Whether `line` holds a word yet (an indent alone does not).
    var started = false
    for word in words {
        var word = word
        if started && line.count + 1 + word.count <= width {
            line += " " + word
            continue
        }
        if started {
            lines.append(line)
            line = indent
        }
        // A word too long for a line of its own is cut (only at widths far below the help's).
        while line.count + word.count > width && width - line.count > 0 {
            let room = width - line.count
            lines.append(line + word.prefix(room))
            word = String(word.dropFirst(room))
            line = indent
        }
        line += word
        started = true
    }
    // No words: the first line's start alone, without its padding.
    lines.append(started ? line : String(line.reversed().drop(while: { $0 == " " }).reversed()))
    return lines
}

/// The paragraphs of a text written over several lines: blank lines separate them.
public func paragraphs(_ text: String) -> [String] {
    text.components(separatedBy: "\n").split(whereSeparator: {
        $0.trimmingCharacters(in: .whitespaces).isEmpty
    }).map { $0.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
}

/// The width of the terminal the help is printed on.
public enum HelpWidth {
    /// The narrowest width help is wrapped to.
    public static let minimum = 40
    /// The width when standard output is not a terminal (a pipe, a file).
    public static let fallback = 80

    /// The width to wrap to: COLUMNS when it is a sane number (it overrides, as for Python's
    /// argparse), else the terminal's width when standard output is one, else 80; never below 40.
    public static func resolve(columns: String?, terminal: Int?) -> Int {
        if let text = columns?.trimmingCharacters(in: .whitespaces), let n = Int(text), (1...10_000).contains(n) {
            return max(n, minimum)
        }
        if let t = terminal, t > 0 { return max(t, minimum) }
        return fallback
    }

    /// The width of standard output's terminal, or nil when it is not a terminal.
    public static func terminalColumns() -> Int? {
        #if canImport(Glibc) || canImport(Darwin)
            guard isatty(STDOUT_FILENO) != 0 else { return nil }
            var size = winsize()
            let status = withUnsafeMutablePointer(to: &size) { ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), $0) }
            return status == 0 && size.ws_col > 0 ? Int(size.ws_col) : nil
        #else
            return nil
        #endif
    }

    /// The width for help printed now, from COLUMNS and standard output.
    public static var current: Int {
        resolve(columns: ProcessInfo.processInfo.environment["COLUMNS"], terminal: terminalColumns())
    }
}

extension Option {
    /// `--name PLACEHOLDER` (`...` after a list's), as the help and the usage line show it.
    public var synopsis: String {
        switch arity {
        case .flag: "--\(name)"
        case .one: "--\(name) \(placeholder)"
        case .many: "--\(name) \(placeholder)..."
        }
    }

    /// The help with what the value must be and its default, in brackets.
    public var described: String {
        var notes: [String] = []
        if required { notes.append("required") }
        if let r = range { notes.append(r) }
        if let d = defaultValue { notes.append("default: \(d)") }
        return help + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
    }

    /// The row every command's help ends with.
    static let helpOption = Option(name: "help", help: "show this help (also -h)")
}

extension Command {
    /// The help printed by `rivers <command> --help`, wrapped to the terminal's width.
    public var usage: String { usage(width: HelpWidth.current) }

    /// The command line's shape: the required options, then the rest.
    public var usageLine: String {
        (["rivers", name] + options.filter(\.required).map(\.synopsis) + ["[options]"]).joined(separator: " ")
    }

    /// The help wrapped to `width` columns (at least 40): the summary as paragraphs, and each
    /// option's description in a column, its lines under one another; an option whose name is
    /// too long for the column has its description on the next line.
    public func usage(width: Int) -> String {
        let width = max(width, HelpWidth.minimum)
        var lines = wrap(usageLine, width: width, indent: "    ", first: "usage: ")
        for paragraph in paragraphs(summary) { lines += [""] + wrap(paragraph, width: width) }
        lines += ["", "options:"]
        let column = width >= 60 ? 28 : 8
        let indent = String(repeating: " ", count: column)
        for o in options + [.helpOption] {
            let left = "  " + o.synopsis
            if left.count + 2 <= column {
                lines += wrap(
                    o.described, width: width, indent: indent,
                    first: left.padding(toLength: column, withPad: " ", startingAt: 0))
            } else {
                lines += wrap(o.synopsis, width: width, indent: "      ", first: "  ")
                lines += wrap(o.described, width: width, indent: indent)
            }
        }
        lines.append("")
        lines += wrap("Options may also be written with dashes (--in-dir) or as --name=value.", width: width)
        return lines.joined(separator: "\n")
    }

    /// The command's reference in Markdown, from the same options as its help: a heading, the
    /// summary, the usage line and a table of every option.
    public func markdown(heading: String = "#") -> String {
        var lines = ["\(heading) rivers \(name)", ""]
        for paragraph in paragraphs(summary.isEmpty ? abstract : summary) { lines += [markdownText(paragraph), ""] }
        lines += ["```", usageLine, "```", ""]
        lines += ["| option | value | default | what it does |", "| --- | --- | --- | --- |"]
        for o in options + [.helpOption] {
            var value = o.arity == .flag ? "" : "`\(o.placeholder)\(o.arity == .many ? "..." : "")`"
            if let r = o.range { value += (value.isEmpty ? "" : ": ") + markdownText(r) }
            let byDefault = o.required ? "required" : o.defaultValue.map { "`\($0)`" } ?? ""
            let cells = ["`--\(o.name)`", value, byDefault, markdownText(o.help)]
            lines.append(
                "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |")
        }
        lines += ["", "Options may also be written with dashes (`--in-dir`) or as `--name=value`; `-h` is `--help`."]
        return lines.joined(separator: "\n")
    }
}

/// Text as Markdown shows it literally: `<in_dir>` is not an HTML tag, `*` not emphasis.
func markdownText(_ text: String) -> String {
    var out = ""
    for c in text {
        if "\\<>*[]".contains(c) { out.append("\\") }
        out.append(c)
    }
    return out
}
