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

/// Standard error as it was at start: ranks other than 0 send their own output to /dev/null,
/// but their errors still show.
let errorOutput = FileHandle(fileDescriptor: dup(2), closeOnDealloc: true)

func fail(_ message: String, status: Int32) -> Never {
    let rank = Job.world.size > 1 ? " (rank \(Job.world.rank) of \(Job.world.size))" : ""
    errorOutput.write("rivers: error\(rank): \(message)\n".data(using: .utf8)!)
    // One rank's error ends every rank of the job: none is left waiting for it.
    if Job.world.size > 1 { Job.world.abort(status: status) }
    exit(status)
}

/// Ends the process; under `mpirun`, after every rank got here.
func finish(_ status: Int32) -> Never {
    fflush(stdout)
    #if MPI
    (Job.world as? MPICommunicator)?.finalize()
    #endif
    exit(status)
}

/// The number of ranks when started by `mpirun` or `srun`, from their environment; 1 otherwise.
func launchedRanks() -> Int {
    let env = ProcessInfo.processInfo.environment
    return ["OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"].lazy.compactMap { env[$0].flatMap { Int($0) } }.first ?? 1
}

if launchedRanks() > 1 {
    #if MPI
    Job.world = MPICommunicator()
    if Job.world.rank > 0 {
        // Every rank does the same work; rank 0 alone speaks.
        freopen("/dev/null", "w", stdout)
        freopen("/dev/null", "w", stderr)
    }
    #else
    fail("started as one of \(launchedRanks()) ranks, but this rivers was built without MPI: build it with 'swift build -c release --traits MPI' (see README.md)", status: 2)
    #endif
}

var argv = Array(CommandLine.arguments.dropFirst())
if argv.isEmpty || ["--help", "-h", "help"].contains(argv[0]) {
    if argv.count >= 2, let c = commands.first(where: { $0.name == argv[1] }) { print(c.usage) } else { print(mainUsage()) }
    finish(0)
}
if argv[0] == "--version" {
    #if MPI
    print("rivers \(version) (MPI)")
    #else
    print("rivers \(version)")
    #endif
    finish(0)
}
let name = argv.removeFirst()
guard let command = commands.first(where: { $0.name == name }) else {
    let hint = closest(name, among: commands.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
    fail("unknown command '\(name)'\(hint); 'rivers --help' lists the commands", status: 2)
}
/// The commands that split their work over the ranks of an `mpirun` job; the others run in one process.
let rankAware: Set<String> = ["train", "train-all", "infer", "augment"]
if Job.world.size > 1 && !rankAware.contains(command.name) && !argv.contains("--help") && !argv.contains("-h") {
    fail("rivers \(command.name) runs in one process; under mpirun only \(rankAware.sorted().joined(separator: ", ")) split their work over the ranks", status: 2)
}
do {
    let args = try command.parse(argv)
    if args.wantsHelp { print(command.usage); finish(0) }
    finish(try command.run(args))
} catch let e as UsageError {
    fail("\(e.description); 'rivers \(command.name) --help' lists the options", status: 2)
} catch let e as RiversError {
    fail(e.description, status: 1)
} catch {
    fail("\(error)", status: 1)
}
