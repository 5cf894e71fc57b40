// Parallel loops over Dispatch with one process-wide thread-count setting.
import Dispatch
import Foundation

public enum Parallel {
    /// How many threads parallel loops use; defaults to every core the process was given (all
    /// of them, or a rank's share under `mpirun`). Set by `--threads`.
    nonisolated(unsafe) public static var threadCount: Int = ResourceUsage.coresGiven()

    /// Runs `body(i)` for i in 0..<count on up to `threadCount` threads; thread t takes
    /// i = t, t + threads, ... (a static split: which thread runs which index never varies).
    @inlinable
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let threads = min(threadCount, count)
        if threads <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in stride(from: t, to: count, by: threads) { body(i) }
            }
        }
    }

    /// Runs `body(chunk range)` over 0..<count split into `threadCount` contiguous chunks.
    @inlinable
    public static func forChunks(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threadCount, count / max(minimumChunk, 1)))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let start = count * c / chunks, end = count * (c + 1) / chunks
                if start < end { body(start..<end) }
            }
        }
    }
}
