// File operations that never overwrite and never leave half-written files behind.
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

public enum FileOps {
    /// Writes `data` to a temporary file beside `path`, then links it into place.
    /// link(2) fails when `path` exists, so an existing file is never replaced, and a crash
    /// mid-write leaves only a hidden temporary file, never a truncated image. With `sync`, the
    /// data is flushed to disk before it takes the name (a file worth keeping whole after a power cut).
    public static func writeNew(_ data: Data, to path: String, sync: Bool = false) throws {
        if FileManager.default.fileExists(atPath: path) { throw RiversError.exists(path: path) }
        let temp = try writeTemporary(data, beside: path, sync: sync)
        defer { unlink(temp) }
        if link(temp, path) != 0 {
            let code = errno
            if code == EEXIST { throw RiversError.exists(path: path) }
            throw RiversError.file(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// Writes `data` under the first name `name(i)`, i = `from`, `from + 1`, ... below `limit`,
    /// that is free in `dir` (link(2) claims a name atomically, so two processes writing into one
    /// folder never replace each other's files). Returns the path and the index after the one used.
    public static func writeNew(_ data: Data, in dir: String, from: Int, limit: Int = Int.max, name: (Int) -> String)
        throws -> (path: String, next: Int)
    {
        var index = from
        while index < limit {
            let path = (dir as NSString).appendingPathComponent(name(index))
            index += 1
            do {
                try writeNew(data, to: path)
                return (path, index)
            } catch RiversError.exists(_) {
                continue
            }
        }
        throw RiversError.exists(path: (dir as NSString).appendingPathComponent(name(from)))
    }

    /// Replaces `path` with `data` atomically: written and flushed to a temporary file beside
    /// it, then renamed over it, so a crash or kill at any moment leaves either the previous
    /// file or the new one, whole.
    public static func replaceAtomically(_ data: Data, at path: String) throws {
        let temp = try writeTemporary(data, beside: path, sync: true)
        guard rename(temp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw RiversError.file(path: path, reason: "cannot be written: \(reason)")
        }
    }

    /// `data` in a new hidden file `.<name>.<pid>.<random>.tmp` beside `path` (created
    /// exclusively, flushed to disk when `sync`). Returns its path; on failure nothing is left.
    static func writeTemporary(_ data: Data, beside path: String, sync: Bool) throws -> String {
        let url = URL(fileURLWithPath: path)
        let temp =
            url.deletingLastPathComponent().path
            + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            let reason =
                code == ENOENT
                ? "cannot be written: its folder does not exist"
                : "cannot be written: \(String(cString: strerror(code)))"
            throw RiversError.file(path: path, reason: reason)
        }
        var ok = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        if ok && sync { ok = fsync(fd) == 0 }
        let code = errno
        close(fd)
        guard ok else {
            unlink(temp)
            throw RiversError.file(path: path, reason: "cannot be written: \(String(cString: strerror(code)))")
        }
        return temp
    }

    /// Removes the temporary files (`.<name>.<pid>.<random>.tmp`) in `dir` whose writing process
    /// no longer runs: what a killed writer left. Those of running processes are kept.
    public static func removeStaleTemporaries(in dir: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.split(separator: ".")
            guard parts.count >= 4, let pid = Int32(parts[parts.count - 3]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                unlink((dir as NSString).appendingPathComponent(name))
            }
        }
    }

    /// Copies a file byte for byte with the same no-overwrite guarantee.
    public static func copyNew(from source: String, to path: String) throws {
        guard let data = FileManager.default.contents(atPath: source) else {
            throw RiversError.file(path: source, reason: "cannot be read")
        }
        try writeNew(data, to: path)
    }

    /// Creates a folder and its parents; a file in the way is an error naming it.
    public static func makeDirectory(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw RiversError.file(path: path, reason: "exists and is not a folder")
        }
        // mkdir -p by hand, so that the failing part and the system's reason can be named.
        let up = parent(path)
        if !up.isEmpty && up != path && !FileOps.isDirectory(up) { try makeDirectory(up) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw RiversError.file(path: path, reason: "cannot create folder: \(String(cString: strerror(errno)))")
        }
    }

    /// Why `path` is not a usable folder, or nil when it is one: missing, a file, a broken link
    /// or a link loop, with the system's reason.
    public static func folderProblem(_ path: String) -> String? {
        if path.isEmpty { return "does not exist (an empty path)" }
        var st = stat()
        if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR ? nil : "is a file, not a folder" }
        let code = errno
        var link = stat()
        if lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK {
            return code == ELOOP
                ? "is a symbolic link loop" : "is a symbolic link to nothing (\(String(cString: strerror(code))))"
        }
        return code == ENOENT ? "does not exist" : String(cString: strerror(code))
    }

    /// The folder part of `path`: "" for a bare name, "/" for a name at the root; as NSString's
    /// deletingLastPathComponent, which traps on a one-character name in this Foundation.
    public static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var head = p[..<slash]
        while head.count > 1 && head.hasSuffix("/") { head = head.dropLast() }
        return String(head)
    }

    /// True when `path` is a folder.
    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// The absolute path with symlinks resolved as far as the path exists; the part that does
    /// not exist yet is appended as written. Used to compare folders that may not exist.
    public static func canonicalPath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var existing = absolute
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing) && existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = parent(existing)
        }
        var resolved = URL(fileURLWithPath: existing).resolvingSymlinksInPath().path
        for part in rest { resolved = (resolved as NSString).appendingPathComponent(part) }
        return resolved
    }

    /// Refuses, before any work, an output any part of which leads into an input: `output`
    /// itself (inside the input, through a link, `..` or otherwise), or any of `parts` below it
    /// that the command writes, as they resolve (links followed). With `mutual`, an input inside
    /// the output is refused too. `outputName` and `inputName` say what the folders are
    /// ("--out_dir", "the run's training images"). Every command that writes checks with this.
    public static func checkOutside(
        _ output: String, _ outputName: String, parts: [String] = [], input: String, _ inputName: String,
        mutual: Bool = false
    ) throws {
        if isSameOrInside(output, input) {
            throw RiversError.usage(
                "\(outputName) \(output) is inside \(inputName) \(input): the input is never written; choose another folder"
            )
        }
        if mutual && isSameOrInside(input, output) {
            throw RiversError.usage(
                "\(inputName) \(input) is inside \(outputName) \(output): the input is never written; choose another folder"
            )
        }
        for part in parts where isSameOrInside(part, input) {
            throw RiversError.file(
                path: part, reason: "leads into \(inputName) \(input) (a symbolic link?): the input is never written")
        }
    }

    /// True when `inner` is `outer` or lies below it (after canonicalization).
    public static func isSameOrInside(_ inner: String, _ outer: String) -> Bool {
        let a = canonicalPath(inner), b = canonicalPath(outer)
        return a == b || a.hasPrefix(b.hasSuffix("/") ? b : b + "/")
    }
}
