// The `rivers` executable: dispatches to one subcommand per pipeline step.
import Foundation
import Rivers

let version = "0.1.0"
let commands: [Command] = [demoCommand, balanceCommand, trainCommand, trainAllCommand, inferCommand, augmentCommand, inpaintCommand, reportCommand, synthesizeCommand]

func mainUsage() -> String {
    var lines = ["rivers \(version): balance and enlarge small river image datasets on a CPU.", "",
                 "usage: rivers <command> [options]", "", "commands:"]
    for c in commands { lines.append("  " + c.name.padding(toLength: 12, withPad: " ", startingAt: 0) + firstSentence(c.summary)) }
    lines += ["", "rivers <command> --help lists a command's options and their defaults."]
    return lines.joined(separator: "\n")
}

/// The summary's first sentence (its lines joined), for the list of commands: up to the first
/// period followed by a space and a capital letter, or the end.
func firstSentence(_ summary: String) -> String {
    let chars = Array(summary.split(separator: "\n").joined(separator: " "))
    for i in chars.indices.dropLast(2) where chars[i] == "." && chars[i + 1] == " " && chars[i + 2].isUppercase {
        return String(chars[...i])
    }
    return String(chars)
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write("rivers: error: \(message)\n".data(using: .utf8)!)
    exit(status)
}

var argv = Array(CommandLine.arguments.dropFirst())
if argv.isEmpty || ["--help", "-h", "help"].contains(argv[0]) {
    if argv.count >= 2, let c = commands.first(where: { $0.name == argv[1] }) { print(c.usage) } else { print(mainUsage()) }
    exit(0)
}
if argv[0] == "--version" { print("rivers \(version)"); exit(0) }
let name = argv.removeFirst()
guard let command = commands.first(where: { $0.name == name }) else {
    let hint = closest(name, among: commands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
    fail("unknown command '\(name)'\(hint); 'rivers --help' lists the commands", status: 2)
}
do {
    let args = try command.parse(argv)
    if args.wantsHelp { print(command.usage); exit(0) }
    exit(try command.run(args))
} catch let e as UsageError {
    fail("\(e.description); 'rivers \(command.name) --help' lists the options", status: 2)
} catch let e as RiversError {
    fail(e.description, status: 1)
} catch {
    fail("\(error)", status: 1)
}
