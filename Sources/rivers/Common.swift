// What every subcommand shares: the thread option, warnings and notices on standard error.
import Foundation
import Rivers

let threadsOption = Option(name: "threads", help: "worker threads", value: "N", defaultValue: String(Parallel.threadCount))

/// Sets the process-wide thread count from --threads (1 to 256).
func applyThreads(_ args: ParsedArguments) throws {
    let n = try args.int("threads")
    guard (1...256).contains(n) else { throw UsageError(description: "--threads must be 1 to 256, got \(n)") }
    Parallel.threadCount = n
}

func warn(_ message: String) {
    FileHandle.standardError.write("warning: \(message)\n".data(using: .utf8)!)
}

func note(_ message: String) {
    FileHandle.standardError.write("note: \(message)\n".data(using: .utf8)!)
}
