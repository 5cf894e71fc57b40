// `rivers split`, step two: scan and hash the raw dataset, check the output folder, then link (or
// copy) every image to its side. The originals are never written, moved or replaced.
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What carrying out a split did.
public struct SplitReport: Equatable, Sendable {
    /// Files hard-linked to their source.
    public var linked = 0
    /// Files copied (the output is on another file system, or links are refused).
    public var copied = 0
    /// Files already in place from an earlier run (same content), left as they are.
    public var existing = 0
    /// Ctrl-C stopped the run before every file was in place; split.json is not written yet.
    public var interrupted = false

    public init(linked: Int = 0, copied: Int = 0, existing: Int = 0, interrupted: Bool = false) {
        self.linked = linked; self.copied = copied; self.existing = existing; self.interrupted = interrupted
    }
}

/// What the output folder holds before a split: nothing, or part or all of this very split.
public struct SplitOutputState: Equatable, Sendable {
    /// split.json is there (and equal to the plan's manifest).
    public var finished = false
    /// Outputs (relative paths) already in place with the right content.
    public var present: Set<String> = []
    /// Files in the train and test label folders that the manifest does not list (left alone,
    /// reported: whatever reads the folders would take them).
    public var extra: [String] = []
}

extension Split {
    /// The images below `<inDir>/1` .. `<inDir>/6` (found as `TrainingImages.scan` finds them:
    /// subfolders and links to folders followed, hidden files left out), with their SHA-256 computed
    /// on every thread. `progress` gets the number of files to hash. After Ctrl-C (`Interrupt`) the
    /// hashing stops and the scan says `interrupted`.
    public static func scan(inDir: String, progress: (Int) -> ProgressBar? = { _ in nil }) throws -> SplitScan {
        if let problem = FileOps.folderProblem(inDir) {
            throw RiversError.file(path: inDir, reason: "input folder \(problem)")
        }
        var scan = SplitScan(inDir: FileOps.canonicalPath(inDir))
        scan.skipped = try RawDataset.otherEntries(inDir)
        var found: [(label: Int, path: String)] = []
        for label in 1...6 {
            let dir = (inDir as NSString).appendingPathComponent(String(label))
            if let problem = FileOps.folderProblem(dir) {
                if problem == "does not exist" {
                    scan.missingLabels.append(label)
                    continue
                }
                throw RiversError.file(path: dir, reason: "label folder \(problem)")
            }
            let (images, ignored) = try TrainingImages.scan(dir)
            scan.skipped += ignored
            for path in images {
                guard path.hasPrefix(dir + "/") else {
                    throw RiversError.file(path: path, reason: "is not below its label folder \(dir)")
                }
                found.append((label, "\(label)/" + path.dropFirst(dir.count + 1)))
            }
        }
        if found.isEmpty {
            throw RiversError.file(
                path: inDir, reason: "has no label folders 1 .. 6 (a raw dataset holds <in_dir>/1 .. /6)")
        }
        let bar = progress(found.count)
        var hashes = [Result<String, RiversError>?](repeating: nil, count: found.count)
        hashes.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(found.count) { i in
                if Interrupt.requested { return }
                let path = (inDir as NSString).appendingPathComponent(found[i].path)
                do { out[i] = .success(try SHA256.hex(file: path)) } catch let e as RiversError {
                    out[i] = .failure(e)
                } catch { out[i] = .failure(.file(path: path, reason: "\(error)")) }
                bar?.advance()
            }
        }
        bar?.finish()
        if hashes.contains(where: { $0 == nil }) {
            scan.interrupted = true
            return scan
        }
        for (i, hash) in hashes.enumerated() {
            scan.files.append(SplitSource(path: found[i].path, label: found[i].label, sha256: try hash!.get()))
        }
        scan.files.sort { $0.path < $1.path }
        return scan
    }

    /// Refuses an output folder inside the input or holding it, or whose sides lead into the input
    /// (links followed).
    public static func checkFolders(inDir: String, outDir: String) throws {
        if let problem = FileOps.folderProblem(inDir) {
            throw RiversError.file(path: inDir, reason: "input folder \(problem)")
        }
        var parts: [String] = []
        for side in [SplitManifest.train, SplitManifest.test] {
            let dir = (outDir as NSString).appendingPathComponent(side)
            parts += [dir] + (1...6).map { (dir as NSString).appendingPathComponent(String($0)) }
        }
        try FileOps.checkOutside(outDir, "--out_dir", parts: parts, input: inDir, "--in_dir", mutual: true)
    }

    /// What `outDir` holds, or why the split may not be written there: it must be new, empty
    /// (hidden files aside), or hold this very split (split.json or split.partial.json with the
    /// plan's manifest), part of whose files may be in place. A file at an output with other
    /// content than its source is an error naming it: nothing is ever overwritten.
    public static func checkOutput(_ plan: SplitPlan, outDir: String) throws -> SplitOutputState {
        var state = SplitOutputState()
        if let problem = FileOps.folderProblem(outDir) {
            if problem == "does not exist" { return state }
            throw RiversError.file(path: outDir, reason: "--out_dir \(problem)")
        }
        var recorded = false
        for name in [SplitManifest.fileName, SplitManifest.partialName] {
            let path = (outDir as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RiversError.file(path: path, reason: "cannot be read")
            }
            try compare(try SplitManifest.decode(data, path: path), plan.manifest, path: path)
            recorded = true
            if name == SplitManifest.fileName { state.finished = true }
        }
        if !recorded {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? []
            if let name = names.sorted().first(where: { !$0.hasPrefix(".") }) {
                throw RiversError.file(
                    path: outDir,
                    reason:
                        "is not empty (it holds \(name)) and has no \(SplitManifest.fileName): --out_dir must be a new or empty folder, or one rivers split wrote"
                )
            }
            return state
        }
        let entries = plan.manifest.entries
        var verdicts = [Result<Bool, RiversError>](repeating: .success(false), count: entries.count)
        verdicts.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(entries.count) { i in
                let target = (outDir as NSString).appendingPathComponent(entries[i].output)
                var st = stat()
                guard lstat(target, &st) == 0 else { return }
                let source = (plan.manifest.inDir as NSString).appendingPathComponent(entries[i].path)
                out[i] = Result { try holdsSource(target, source: source, sha256: entries[i].sha256) }
                    .mapError { $0 as? RiversError ?? .file(path: target, reason: "\($0)") }
            }
        }
        for (i, verdict) in verdicts.enumerated() {
            if try verdict.get() { state.present.insert(entries[i].output) }
        }
        let listed = Set(entries.map(\.output))
        for side in [SplitManifest.train, SplitManifest.test] {
            for label in 1...6 {
                let folder = "\(side)/\(label)"
                let names =
                    (try? FileManager.default.contentsOfDirectory(
                        atPath: (outDir as NSString).appendingPathComponent(folder))) ?? []
                for name in names.sorted() where !name.hasPrefix(".") && !listed.contains("\(folder)/\(name)") {
                    state.extra.append((outDir as NSString).appendingPathComponent("\(folder)/\(name)"))
                }
            }
        }
        return state
    }

    /// Whether the existing file `target` holds the content of `source`; throws, naming `target`,
    /// when it holds something else.
    static func holdsSource(_ target: String, source: String, sha256: String) throws -> Bool {
        if FileOps.isDirectory(target) {
            throw RiversError.file(path: target, reason: "is a folder where \(source) would be placed")
        }
        var a = stat(), b = stat()
        if stat(target, &a) == 0 && stat(source, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino {
            return true
        }
        guard try SHA256.hex(file: target) == sha256 else {
            throw RiversError.file(
                path: target,
                reason:
                    "already exists with other content than \(source); not overwritten: remove it, or choose another --out_dir"
            )
        }
        return true
    }

    /// Refuses a recorded manifest other than `mine`, saying whether the settings or the files differ.
    static func compare(_ theirs: SplitManifest, _ mine: SplitManifest, path: String) throws {
        guard theirs != mine else { return }
        var settings: [String] = []
        if theirs.inDir != mine.inDir { settings.append("--in_dir \(theirs.inDir)") }
        if theirs.by != mine.by { settings.append("--by \(theirs.by)") }
        if theirs.testFraction != mine.testFraction {
            settings.append("--test_fraction \(formatNumber(theirs.testFraction))")
        }
        if theirs.seed != mine.seed { settings.append("--seed \(theirs.seed)") }
        if !settings.isEmpty {
            throw RiversError.usage(
                "\(path) records a split made with \(settings.joined(separator: " ")); run with those values to complete it, or choose another --out_dir"
            )
        }
        let old = Dictionary(theirs.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let new = Dictionary(mine.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let added = new.keys.filter { old[$0] == nil }.sorted()
        let removed = old.keys.filter { new[$0] == nil }.sorted()
        let changed = new.keys.filter { old[$0] != nil && (old[$0]!.sha256 != new[$0]!.sha256) }.sorted()
        var what: [String] = []
        if !added.isEmpty { what.append("\(added.count) added (\(added[0]))") }
        if !removed.isEmpty { what.append("\(removed.count) removed (\(removed[0]))") }
        if !changed.isEmpty { what.append("\(changed.count) changed (\(changed[0]))") }
        throw RiversError.file(
            path: path,
            reason: what.isEmpty
                ? "records another split of the same files (made by another version of rivers?): choose another --out_dir"
                : "records a split of other files: since then \(what.joined(separator: ", ")) in --in_dir; choose another --out_dir"
        )
    }

    /// Places every file of the plan under `outDir`: `split.partial.json` first (the plan's
    /// manifest), then each image hard-linked to its source (copied when a link is refused), then
    /// `split.json`, so that a kill at any moment leaves a folder a rerun completes. Files already
    /// in place are kept; after Ctrl-C (`Interrupt`) no new file is started. `state` is what
    /// `checkOutput` just found, when the caller has it (it is found again otherwise).
    public static func execute(
        _ plan: SplitPlan, outDir: String, state: SplitOutputState? = nil, progress: ProgressBar? = nil
    ) throws -> SplitReport {
        try checkFolders(inDir: plan.manifest.inDir, outDir: outDir)
        let state = try state ?? checkOutput(plan, outDir: outDir)
        try FileOps.makeDirectory(outDir)
        FileOps.removeStaleTemporaries(in: outDir)
        let data = try plan.manifest.encoded()
        let partial = (outDir as NSString).appendingPathComponent(SplitManifest.partialName)
        if !state.finished && !FileManager.default.fileExists(atPath: partial) {
            try FileOps.replaceAtomically(data, at: partial)
        }
        for side in [SplitManifest.train, SplitManifest.test] {
            for label in plan.labels.map(\.label) {
                let dir = (outDir as NSString).appendingPathComponent("\(side)/\(label)")
                try FileOps.makeDirectory(dir)
                FileOps.removeStaleTemporaries(in: dir)
            }
        }
        var report = SplitReport(existing: state.present.count)
        if !state.present.isEmpty { progress?.advance(by: state.present.count) }
        for entry in plan.manifest.entries where !state.present.contains(entry.output) {
            if Interrupt.requested {
                report.interrupted = true
                break
            }
            let source = (plan.manifest.inDir as NSString).appendingPathComponent(entry.path)
            let target = (outDir as NSString).appendingPathComponent(entry.output)
            // A source that is a symbolic link is copied, never hard-linked: the file it names may
            // be anywhere (outside the dataset), and a hard link would tie the output to it.
            var st = stat()
            let isLink = lstat(source, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
            if !isLink && linkat(AT_FDCWD, source, AT_FDCWD, target, 0) == 0 {
                report.linked += 1
            } else if !isLink && errno == EEXIST {
                _ = try holdsSource(target, source: source, sha256: entry.sha256)
                report.existing += 1
            } else {
                // Another file system, or links refused (protected_hardlinks, FAT): a copy.
                do {
                    try FileOps.copyNew(from: source, to: target)
                    report.copied += 1
                } catch RiversError.exists {
                    _ = try holdsSource(target, source: source, sha256: entry.sha256)
                    report.existing += 1
                }
            }
            progress?.advance()
        }
        progress?.finish()
        if report.interrupted { return report }
        if !state.finished {
            try FileOps.replaceAtomically(data, at: (outDir as NSString).appendingPathComponent(SplitManifest.fileName))
        }
        unlink(partial)
        return report
    }
}
