// `rivers balance`, step two: scan and validate the input, then carry out a plan.
import Foundation

/// A file that was skipped, and why.
public struct SkippedFile: Equatable, Codable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// What scanning a raw dataset found: readable images per label, and what was skipped.
public struct DatasetScan: Sendable {
    /// Readable image file names per label.
    public var images: [Int: [String]] = [:]
    /// Files that are not images (skipped with a warning).
    public var ignored: [SkippedFile] = []
    /// Images that could not be decoded (skipped, reported as failures).
    public var unreadable: [SkippedFile] = []
}

public struct BalanceReport: Sendable {
    public var written = 0
    /// Planned files already present from an earlier run (left untouched).
    public var existing = 0
    public var failures: [SkippedFile] = []
    /// Ctrl-C stopped the run before every planned file was written.
    public var interrupted = false
}

extension Balance {
    /// Lists `<in_dir>/<label>` for labels 1...count, skipping non-image files, and decodes
    /// every image once so that unreadable ones are known before planning.
    /// Throws for a missing input folder, a missing label folder or one with no image files.
    public static func scan(inDir: String, labels: Int) throws -> DatasetScan {
        if let problem = FileOps.folderProblem(inDir) {
            throw RiversError.file(path: inDir, reason: "input folder \(problem)")
        }
        var scan = DatasetScan()
        scan.ignored = try RawDataset.otherEntries(inDir)
        var candidates: [(label: Int, name: String)] = []
        for label in 1...labels {
            let dir = (inDir as NSString).appendingPathComponent(String(label))
            if let problem = FileOps.folderProblem(dir) {
                throw RiversError.file(
                    path: dir, reason: "label folder \(problem == "does not exist" ? "is missing" : problem)")
            }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
                throw RiversError.file(
                    path: dir, reason: "label folder cannot be listed: \(String(cString: strerror(errno)))")
            }
            if access(dir, R_OK | X_OK) != 0 {
                throw RiversError.file(
                    path: dir, reason: "label folder cannot be read: \(String(cString: strerror(errno)))")
            }
            var imageCount = 0
            for name in names {
                let path = (dir as NSString).appendingPathComponent(name)
                if FileOps.isDirectory(path) {
                    scan.ignored.append(SkippedFile(path: path, reason: "is a folder, skipped"))
                } else if name.hasPrefix(".") || !ImageFile.isImageName(name) {
                    scan.ignored.append(SkippedFile(path: path, reason: "not an image file, skipped"))
                } else {
                    candidates.append((label, name))
                    imageCount += 1
                }
            }
            if imageCount == 0 { throw RiversError.file(path: dir, reason: "label folder has no images") }
            scan.images[label] = []
        }
        var errors = [String?](repeating: nil, count: candidates.count)
        errors.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(candidates.count) { i in
                let path = (inDir as NSString).appendingPathComponent("\(candidates[i].label)/\(candidates[i].name)")
                do { _ = try ImageFile.read(path) } catch let e as RiversError {
                    if case .file(_, let reason) = e { out[i] = reason } else { out[i] = e.description }
                } catch { out[i] = "\(error)" }
            }
        }
        for (i, candidate) in candidates.enumerated() {
            if let reason = errors[i] {
                scan.unreadable.append(
                    SkippedFile(
                        path: (inDir as NSString).appendingPathComponent("\(candidate.label)/\(candidate.name)"),
                        reason: reason))
            } else {
                scan.images[candidate.label, default: []].append(candidate.name)
            }
        }
        // A label whose images all fail to decode is as unusable as an empty one: said before work.
        for label in 1...labels where scan.images[label]?.isEmpty ?? true {
            let bad = scan.unreadable.filter {
                $0.path.hasPrefix((inDir as NSString).appendingPathComponent(String(label)) + "/")
            }
            throw RiversError.file(
                path: (inDir as NSString).appendingPathComponent(String(label)),
                reason:
                    "label folder has no readable images (\(bad.count) could not be decoded, e.g. \(bad.first?.description ?? "none"))"
            )
        }
        return scan
    }

    /// Refuses an output tree any part of which leads into the input: the output folder itself,
    /// or `diffusion_data`, `L<i>` or `L<i>/<i>` below it as they resolve (links followed).
    public static func checkFolders(_ options: BalanceJob) throws {
        if let problem = FileOps.folderProblem(options.inDir) {
            throw RiversError.file(path: options.inDir, reason: "input folder \(problem)")
        }
        let data = (options.outDir as NSString).appendingPathComponent("diffusion_data")
        var parts = [data]
        for label in 1...options.labels {
            parts += [(data as NSString).appendingPathComponent("L\(label)"), outputDir(options.outDir, label: label)]
        }
        try FileOps.checkOutside(options.outDir, "--out_dir", parts: parts, input: options.inDir, "--in_dir")
    }

    /// The ladder an output folder was made with: `diffusion_data/.balance.json`.
    public struct LadderRecord: Codable, Equatable {
        public var theta: Double, fact: Double, multiplier: Int, seed: UInt64
        public init(_ o: BalanceJob) { theta = o.theta; fact = o.fact; multiplier = o.multiplier; seed = o.seed }
    }

    static func ladderRecordPath(_ outDir: String) -> String {
        (outDir as NSString).appendingPathComponent("diffusion_data/.balance.json")
    }

    /// Refuses to add to an output made with another ladder or seed (the two would mix and the
    /// counts would be wrong); with `write`, records this run's ladder when none is recorded.
    public static func checkLadder(_ options: BalanceJob, write: Bool) throws {
        try PlanRecord.check(
            LadderRecord(options), at: ladderRecordPath(options.outDir),
            output: (options.outDir as NSString).appendingPathComponent("diffusion_data"), write: write
        ) { theirs, mine in
            var differences: [String] = []
            if theirs.theta != mine.theta { differences.append("--theta \(formatNumber(theirs.theta))") }
            if theirs.fact != mine.fact { differences.append("--fact \(formatNumber(theirs.fact))") }
            if theirs.multiplier != mine.multiplier { differences.append("--multiplier \(theirs.multiplier)") }
            if theirs.seed != mine.seed { differences.append("--seed \(theirs.seed)") }
            return differences
        }
    }

    /// The plan for every label of a scan.
    public static func plan(scan: DatasetScan, options: BalanceJob) -> BalancePlan {
        BalancePlan(
            labels: scan.images.keys.sorted().map { planLabel(label: $0, images: scan.images[$0]!, options: options) })
    }

    /// Writes what the plan says: copies the originals, then renders each source image's
    /// copies (one decode per source), in parallel over source images. Files already
    /// present are left as they are, so a second run completes what is missing. After Ctrl-C
    /// (see `Interrupt`) no new file is started; those being written are finished.
    public static func execute(_ plan: BalancePlan, jpegQuality: Int = 95, progress: ProgressBar? = nil) throws
        -> BalanceReport
    {
        var report = BalanceReport()
        let lock = NSLock()
        func record(_ outcome: Result<Bool, RiversError>, count: Int = 1) {
            lock.lock(); defer { lock.unlock() }
            switch outcome {
            case .success(true): report.written += count
            case .success(false): report.existing += count
            case .failure(let e):
                if case .file(let path, let reason) = e {
                    report.failures.append(SkippedFile(path: path, reason: reason))
                } else {
                    report.failures.append(SkippedFile(path: "", reason: e.description))
                }
            }
        }
        /// Writes unless present; false when the file was already there.
        func writeOnce(_ path: String, _ body: () throws -> Void) -> Result<Bool, RiversError> {
            if FileManager.default.fileExists(atPath: path) { return .success(false) }
            do { try body(); return .success(true) } catch RiversError.exists { return .success(false) } catch let e
                as RiversError
            {
                return .failure(e)
            } catch { return .failure(.file(path: path, reason: "\(error)")) }
        }

        for label in plan.labels {
            try FileOps.makeDirectory(label.outputDir)
            FileOps.removeStaleTemporaries(in: label.outputDir)
        }
        let copies = plan.labels.flatMap { l in l.originals.map { (l.inputDir + "/" + $0, l.outputDir + "/" + $0) } }
        Parallel.forEach(copies.count) { i in
            if Interrupt.requested { return }
            record(writeOnce(copies[i].1) { try FileOps.copyNew(from: copies[i].0, to: copies[i].1) })
            progress?.advance()
        }
        struct Job { let label: LabelPlan; let source: String; let copies: [RotatedCopy] }
        var jobs: [Job] = []
        for label in plan.labels {
            let bySource = Dictionary(grouping: label.copies, by: \.source)
            for source in bySource.keys.sorted() {
                jobs.append(Job(label: label, source: source, copies: bySource[source]!))
            }
        }
        Parallel.forEach(jobs.count) { j in
            if Interrupt.requested { return }
            let job = jobs[j]
            let pending = job.copies.filter {
                !FileManager.default.fileExists(atPath: job.label.outputDir + "/" + $0.output)
            }
            if pending.count < job.copies.count { record(.success(false), count: job.copies.count - pending.count) }
            if !pending.isEmpty {
                let sourcePath = job.label.inputDir + "/" + job.source
                do {
                    let image = try ImageFile.read(sourcePath)
                    for aug in pending {
                        if Interrupt.requested { break }  // a large image's remaining rungs wait for the rerun
                        let path = job.label.outputDir + "/" + aug.output
                        record(
                            writeOnce(path) {
                                let out = Geometry.rotateZoomCrop(
                                    image, degrees: aug.rung.angle, zoom: aug.rung.zoom, flipFirst: aug.rung.flipped)
                                try ImageFile.write(out, to: path, jpegQuality: jpegQuality)
                            })
                    }
                } catch let e as RiversError {
                    record(.failure(e))
                } catch {
                    record(.failure(.file(path: sourcePath, reason: "\(error)")))
                }
            }
            progress?.advance(by: job.copies.count)
        }
        progress?.finish()
        // Ctrl-C during the last files, once everything is there, interrupted nothing.
        report.interrupted =
            Interrupt.requested && report.written + report.existing + report.failures.count < plan.totalImages
        return report
    }
}
