// Process resource figures for benchmarks and logs.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ResourceUsage {
    /// Peak resident set size of this process so far, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024 // kilobytes on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss // bytes on Darwin
        #endif
    }
}
