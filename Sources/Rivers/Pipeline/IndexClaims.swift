// File indices claimed by a process before it generates them, so two processes writing into
// one folder use different indices.
import Foundation

/// File indices of generated images claimed by this process before it generates them, so that
/// two processes generating into one folder use different indices, hence different noise
/// (image n draws from (seed, n)) and different names. A claim is a hidden file
/// `.claim_L<label>_<n>`, created exclusively, removed once image n is written (or when the
/// claims are released); one left by a killed process only makes its index skipped.
public final class IndexClaims {
    public let dir: String, label: Int
    public private(set) var indices: [Int] = []

    static func prefix(_ label: Int) -> String { ".claim_L\(label)_" }
    func claimPath(_ n: Int) -> String {
        (dir as NSString).appendingPathComponent(IndexClaims.prefix(label) + String(n))
    }

    /// Claims `count` indices from the next free one on; `imageName(n)` is image n's file name.
    public init(dir: String, label: Int, count: Int, imageName: (Int) -> String) throws {
        self.dir = dir; self.label = label
        var n = InferencePlan.nextIndex(in: dir, label: label)
        // A claim is created whole with its pid (a finished temporary file linked to the name), so
        // a claim without a pid can only be a damaged one.
        let pid = Data("\(getpid())".utf8)
        while indices.count < count {
            do {
                try FileOps.writeNew(pid, to: claimPath(n))
                // Claimed; an image written meanwhile by a process that has released its claim
                // keeps its index.
                if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(imageName(n))) {
                    unlink(claimPath(n))
                } else {
                    indices.append(n)
                }
            } catch RiversError.exists(_) {
                if IndexClaims.isStale(claimPath(n)) {
                    unlink(claimPath(n))  // left by a killed process: the index is free again
                    continue
                }
            }
            n += 1
        }
    }

    /// Removes every claim in `dir` whose process no longer runs (a killed writer's).
    public static func removeStale(in dir: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(".claim_L") {
            let path = (dir as NSString).appendingPathComponent(name)
            if isStale(path) { unlink(path) }
        }
    }

    /// A claim whose process (the pid it holds) no longer runs.
    /// A claim without a pid (empty, damaged) is stale too: claims are created whole.
    static func isStale(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        guard let pid = Int32(String(decoding: data, as: UTF8.self)), pid > 0 else { return true }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    public func release(_ n: Int) {
        if let k = indices.firstIndex(of: n) { indices.remove(at: k); unlink(claimPath(n)) }
    }

    public func releaseAll() {
        for n in indices { unlink(claimPath(n)) }
        indices = []
    }

    deinit { releaseAll() }
}
