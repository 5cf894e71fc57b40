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

    /// Memory a new allocation can have without swapping: MemAvailable of /proc/meminfo where it
    /// exists, else the physical memory.
    public static func availableBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                if let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) { return kb * 1024 }
            }
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }
}
