// Ctrl-C as a request: long work stops taking new items, finishes what it writes, and reports.
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

nonisolated(unsafe) private var interruptFlag: sig_atomic_t = 0

public enum Interrupt {
    /// Installs a SIGINT handler that sets the flag; a second Ctrl-C ends the process at once.
    /// SIGUSR1 sets it too: `mpirun` ends a job on Ctrl-C but forwards SIGUSR1 to every rank, so
    /// `kill -USR1 <mpirun>` (or Slurm's `scancel --signal=USR1`) stops a job cleanly.
    public static func install() {
        signal(SIGINT) { _ in
            interruptFlag = 1
            signal(SIGINT, SIG_DFL)
        }
        signal(SIGUSR1) { _ in interruptFlag = 1 }
    }

    /// True once Ctrl-C was pressed (after `install`).
    public static var requested: Bool { interruptFlag != 0 }
}
