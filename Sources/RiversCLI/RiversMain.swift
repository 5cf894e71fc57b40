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

    public static func usage() -> String {
        var lines = [
            "rivers \(version): balance and enlarge small river image datasets on a CPU.", "",
            "usage: rivers <command> [options]", "", "commands:",
        ]
        for c in commands {
            lines.append("  " + c.name.padding(toLength: 12, withPad: " ", startingAt: 0) + c.abstract)
        }
        lines += ["", "rivers <command> --help (or -h) lists a command's options, their ranges and defaults."]
        return lines.joined(separator: "\n")
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
            return "\(e.description)" + (command.map { "; 'rivers \($0) --help' lists the options" } ?? "")
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
        if argv.isEmpty || ["--help", "-h", "help"].contains(argv[0]) {
            if argv.count >= 2 {
                guard let c = commands.first(where: { $0.name == argv[1] }) else {
                    let hint = closest(argv[1], among: commands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                    throw UsageError(description: "no command '\(argv[1])'\(hint); 'rivers --help' lists the commands")
                }
                return .text(c.usage)
            }
            return .text(usage())
        }
        if ["--version", "-V", "version"].contains(argv[0]) {
            return .text("rivers \(version)\(buildNote)\n\(KernelPath.summary())")
        }
        guard let command = commands.first(where: { $0.name == argv[0] }) else {
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
