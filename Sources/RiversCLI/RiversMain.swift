// The `rivers` command line: the list of commands, dispatch, and the one place where errors
// become exit statuses (2: a setting or usage, 1: a failure, 130: an interrupt).
import Foundation
import Rivers
import RiversCPU

public enum RiversMain {
    public static let version = "0.1.0"
    /// Added to the version line: how this binary was built (" (MPI)").
    nonisolated(unsafe) public static var buildNote = ""

    public static let commands: [Command] = [
        demoCommand, splitCommand, balanceCommand, trainCommand, trainAllCommand, inferCommand, augmentCommand,
        inpaintCommand, evaluateCommand, reportCommand, exportCommand, synthesizeCommand,
    ]

    /// The list of commands, wrapped to the terminal's width.
    public static func usage() -> String { usage(width: HelpWidth.current) }

    /// The list of commands wrapped to `width` columns (at least 40), each abstract in a column
    /// with its lines under one another.
    public static func usage(width: Int) -> String {
        let width = max(width, HelpWidth.minimum)
        var lines = wrap("rivers \(version): balance and enlarge small river image datasets on a CPU.", width: width)
        lines += [""] + wrap("rivers <command> [options]", width: width, indent: "           ", first: "usage: ")
        lines += wrap("rivers help [--markdown] [<command>]", width: width, indent: "           ", first: "       ")
        lines += ["", "commands:"]
        let column = 14
        let indent = String(repeating: " ", count: column)
        for c in commands {
            lines += wrap(
                c.abstract, width: width, indent: indent,
                first: ("  " + c.name).padding(toLength: column, withPad: " ", startingAt: 0))
        }
        lines += ["", "options:"]
        for (left, text) in [
            ("-h, --help", "show this help (also 'rivers help')"),
            ("-V, --version", "print the version and the kernel path (also 'rivers version')"),
        ] {
            lines += wrap(
                text, width: width, indent: indent + "    ",
                first: "  " + left.padding(toLength: 16, withPad: " ", startingAt: 0))
        }
        lines.append("")
        lines += wrap(
            "rivers <command> --help (or -h, or rivers help <command>) lists a command's options, their ranges and defaults; rivers help --markdown <command> prints the same as Markdown, and rivers help --markdown all every command's.",
            width: width)
        return lines.joined(separator: "\n")
    }

    /// The Markdown index of the commands: each with its abstract.
    public static func markdownIndex() -> String {
        var lines = [
            "# rivers", "", markdownText("rivers \(version): balance and enlarge small river image datasets on a CPU."),
            "", "```", "rivers <command> [options]", "```", "", "| command | what it does |", "| --- | --- |",
        ]
        for c in commands {
            lines.append(
                "| `rivers \(c.name)` | \(markdownText(c.abstract).replacingOccurrences(of: "|", with: "\\|")) |")
        }
        lines += [
            "",
            "`rivers <command> --help` (or `-h`) lists a command's options; `rivers --version` (or `-V`) prints the version.",
        ]
        return lines.joined(separator: "\n")
    }

    /// `rivers help [--markdown] [<command>]` (also `--help` and `-h` in place of `help`): the
    /// text to print.
    static func help(_ words: [String], spelled: String) throws -> String {
        let markdown = words.contains("--markdown")
        var names: [String] = []
        for w in words where w != "--markdown" {
            if w == "--help" || w == "-h" { continue }
            if w.hasPrefix("-") {
                // `rivers --help --anything` prints the help, as argparse does; `rivers help` has one option.
                if spelled != "help" { continue }
                let hint =
                    closest(String(w.drop(while: { $0 == "-" })), among: ["markdown"]).map {
                        " (did you mean '--\($0)'?)"
                    } ?? ""
                throw UsageError(
                    description: "unknown option '\(w)' for 'rivers help'\(hint); it takes --markdown and a command")
            }
            names.append(w)
        }
        guard names.count <= 1 else {
            throw UsageError(
                description: "rivers help takes one command, got \(names.count): \(names.joined(separator: " "))")
        }
        guard let name = names.first else { return markdown ? markdownIndex() : usage() }
        if markdown && name == "all" {
            return ([markdownIndex()] + commands.map { $0.markdown(heading: "##") }).joined(separator: "\n\n")
        }
        guard let c = commands.first(where: { $0.name == name }) else {
            let hint = closest(name, among: commands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            throw UsageError(description: "no command '\(name)'\(hint); 'rivers --help' lists the commands")
        }
        return markdown ? c.markdown() : c.usage
    }

    /// The exit status of an error that ended a command.
    public static func status(of error: Error) -> Int32 {
        switch error {
        case is UsageError: return 2
        case RiversError.setting, RiversError.usage: return 2
        default: return 1
        }
    }

    /// The message of an error, for one line on standard error.
    public static func message(of error: Error, command: String?) -> String {
        switch error {
        case let e as UsageError:
            guard e.pointsToHelp, let command else { return e.description }
            return "\(e.description); 'rivers \(command) --help' lists the options"
        case let e as RiversError:
            if case .setting(_, _, _, nil) = e, let command {
                return "\(e.description); 'rivers \(command) --help' lists the options"
            }
            return e.description
        default: return "\(error)"
        }
    }

    /// What `argv` (without the program name) asks for: help or version text to print, or a
    /// command to run with its words.
    public enum Request {
        case text(String)
        case run(Command, [String])
    }

    public static func request(_ argv: [String], ranks: Int) throws -> Request {
        if argv.isEmpty { return .text(usage()) }
        if ["--help", "-h", "help"].contains(argv[0]) {
            return .text(try help(Array(argv.dropFirst()), spelled: argv[0]))
        }
        if ["--version", "-V", "version"].contains(argv[0]) {
            return .text("rivers \(version)\(buildNote)\n\(KernelPath.summary())")
        }
        guard let command = commands.first(where: { $0.name == argv[0] }) else {
            // The original's `--runtime training` in place of a command.
            let runtime = runtimeValue(in: argv)
            if runtime.found { throw runtimeError(runtime.value) }
            let hint = closest(argv[0], among: commands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
            throw UsageError(description: "unknown command '\(argv[0])'\(hint); 'rivers --help' lists the commands")
        }
        let words = Array(argv.dropFirst())
        if ranks > 1 && !command.rankAware && !words.contains("--help") && !words.contains("-h") {
            let aware = commands.filter(\.rankAware).map(\.name).sorted()
            throw UsageError(
                description:
                    "rivers \(command.name) runs in one process; under mpirun only \(aware.joined(separator: ", ")) split their work over the ranks"
            )
        }
        return .run(command, words)
    }

    /// Runs `command` on `words`: help, or the command's status.
    public static func run(_ command: Command, _ words: [String]) throws -> Int32 {
        let args = try command.parse(words)
        if args.wantsHelp { print(command.usage); return 0 }
        return try command.run(args)
    }
}
