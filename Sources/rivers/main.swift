// The `rivers` executable: the MPI job (when built with it), then one subcommand per pipeline
// step (RiversCLI), its errors as one line on standard error and an exit status.
import Foundation
import Rivers
import RiversCLI
import RiversCPU

// First, before any code built for AVX2 runs: the CPU's flags, and the kernel path (RIVERS_ISA).
switch KernelPath.select(cpu: .current, environment: ProcessInfo.processInfo.environment["RIVERS_ISA"]) {
case .success(let isa): KernelPath.current = isa
case .failure(let problem):
    FileHandle.standardError.write("rivers: error: \(problem)\n".data(using: .utf8)!)
    if case .unsupportedCPU = problem { exit(1) }
    exit(2)
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
        fail(
            "started as one of \(launchedRanks()) ranks, but this rivers was built without MPI: build it with 'swift build -c release --traits MPI' (see README.md)",
            status: 2)
    #endif
}

#if MPI
    RiversMain.buildNote = " (MPI)"
#endif
var commandName: String?
do {
    switch try RiversMain.request(Array(CommandLine.arguments.dropFirst()), ranks: Job.world.size) {
    case .text(let text):
        print(text)
        finish(0)
    case .run(let command, let words):
        commandName = command.name
        finish(try RiversMain.run(command, words))
    }
} catch {
    fail(RiversMain.message(of: error, command: commandName), status: RiversMain.status(of: error))
}
