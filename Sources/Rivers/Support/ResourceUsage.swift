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
            return usage.ru_maxrss * 1024  // kilobytes on Linux
        #else
            getrusage(RUSAGE_SELF, &usage)
            return usage.ru_maxrss  // bytes on Darwin
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

    /// The cores this process may run on (its CPU affinity, which `mpirun` and Slurm narrow to the
    /// cores a rank was given); every core where the affinity cannot be read.
    public static func coresGiven() -> Int {
        // Cpus_allowed_list of /proc/self/status: "0-3", "0,2,4-5".
        if let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        {
            var n = 0
            for part in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
                let ends = part.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                if ends.count == 1 { n += 1 } else if ends.count == 2, ends[1] >= ends[0] { n += ends[1] - ends[0] + 1 }
            }
            if n > 0 { return n }
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
