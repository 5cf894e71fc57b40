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
    /// SIGTERM (`timeout`, `docker stop`, `kill`, Slurm at a time limit) is handled like Ctrl-C;
    /// a second one ends the process at once.
    public static func install() {
        // The flag is never lowered: a Ctrl-C after SIGTERM keeps status 143.
        signal(SIGINT) { _ in
            if interruptFlag == 0 { interruptFlag = 1 }
            signal(SIGINT, SIG_DFL)
        }
        signal(SIGTERM) { _ in
            interruptFlag = 2
            signal(SIGTERM, SIG_DFL)
        }
        signal(SIGUSR1) { _ in if interruptFlag == 0 { interruptFlag = 1 } }
    }

    /// True once Ctrl-C (or SIGTERM, SIGUSR1) was received (after `install`).
    public static var requested: Bool { interruptFlag != 0 }

    /// The exit status of a run that stopped on request: 143 (128 + SIGTERM) after SIGTERM, as a
    /// process ended by it would report, else 130 (128 + SIGINT).
    public static var status: Int32 { interruptFlag == 2 ? 143 : 130 }

    /// Whether `status` is one a stop on request gives.
    public static func isInterruption(_ status: Int32) -> Bool { status == 130 || status == 143 }
}
