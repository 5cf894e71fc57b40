// What every subcommand shares: the thread option, warnings and notices on standard error.
import Foundation
import Rivers

let threadsOption = Option(name: "threads", help: "worker threads", value: "N", defaultValue: String(Parallel.threadCount))
let quietOption = Option(name: "quiet", help: "no progress bar", arity: .flag)

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

/// The options of every command that generates: DDIM steps, eta, seed, batch and checkpoint.
func generationOptions(steps: String, eta: String, seedHelp: String, batch: Bool = true) -> [Option] {
    [Option(name: "generate_diffusion_steps", help: "DDIM steps", value: "N", defaultValue: steps),
     Option(name: "eta", help: "0: deterministic DDIM (what the original produced); 1: DDPM-like noise", value: "X", defaultValue: eta),
     Option(name: "seed", help: seedHelp, value: "N", defaultValue: "42")]
        + (batch ? [Option(name: "batch_size", help: "images per batch (default: up to 8, as memory allows)", value: "N")] : [])
        + [Option(name: "checkpoint", help: "best or last checkpoint of the run", value: "NAME", defaultValue: "best")]
}

/// The values of `generationOptions`, checked: a bad one is a usage error naming it.
struct GenerationArguments {
    var steps: Int, eta: Double, seed: UInt64, batch: Int?, checkpoint: String

    init(_ args: ParsedArguments) throws {
        steps = try args.int("generate_diffusion_steps")
        guard (1...10_000).contains(steps) else { throw UsageError(description: "--generate_diffusion_steps must be 1 to 10000, got \(steps)") }
        guard let e = Double(args.string("eta") ?? ""), e.isFinite, (0...1).contains(e) else {
            throw UsageError(description: "--eta must be from 0 to 1, got '\(args.string("eta") ?? "")'")
        }
        eta = e
        guard let s = UInt64(args.string("seed") ?? "") else { throw UsageError(description: "--seed must be a whole number from 0 to \(UInt64.max)") }
        seed = s
        batch = try args.string("batch_size").map { _ in try args.int("batch_size") }
        if let b = batch, !(1...1024).contains(b) { throw UsageError(description: "--batch_size must be 1 to 1024, got \(b)") }
        checkpoint = args.string("checkpoint") ?? "best"
        guard ["best", "last"].contains(checkpoint) else { throw UsageError(description: "--checkpoint must be best or last, got '\(checkpoint)'") }
    }
}
