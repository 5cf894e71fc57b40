// The run directory of one trained model, <out_dir>/L<label>_<time>/: the resolved configuration
// and label, checkpoints, the per-epoch log, the loss plot, sample grids and generated images.
import Foundation

/// `config.json` of a run: what `infer`, `augment` and a resumed `train` need to know.
public struct RunRecord: Codable, Equatable, Sendable {
    public var format = RunRecord.currentFormat
    /// The flow label (1...6) the model was trained on; `augment` matches models to labels by it.
    public var label: Int
    /// The training images' folder (absolute), for resuming and the memorization check.
    public var inDir: String
    /// When the run was created (ISO 8601, UTC).
    public var created: String
    /// The resolved configuration.
    public var train: TrainConfig
    /// Worker threads of the run: a resumed run repeats its losses exactly with the same count
    /// (weight gradients are summed per thread).
    public var threads: Int?
    /// The checkpoint a new run took its first weights and EMA from (`--init_from`), if any.
    public var initFrom: String?

    public static let currentFormat = "rivers-run-1"

    public init(
        label: Int, inDir: String, created: String = ISO8601DateFormatter().string(from: Date()), train: TrainConfig,
        threads: Int? = Parallel.threadCount, initFrom: String? = nil
    ) {
        self.label = label; self.inDir = inDir; self.created = created; self.train = train; self.threads = threads
        self.initFrom = initFrom
    }

    enum CodingKeys: String, CodingKey {
        case format, label, inDir = "in_dir", created, train, threads, initFrom = "init_from"
    }
}

/// One row of `log.csv`.
public struct EpochLog: Equatable, Sendable {
    /// 1-based epoch.
    public var epoch: Int
    public var nLoss: Double, iLoss: Double
    public var validation: (nLoss: Double, iLoss: Double)?
    public var seconds: Double
    public var learningRate: Double

    public init(
        epoch: Int, nLoss: Double, iLoss: Double, validation: (nLoss: Double, iLoss: Double)?, seconds: Double,
        learningRate: Double
    ) {
        self.epoch = epoch; self.nLoss = nLoss; self.iLoss = iLoss; self.validation = validation;
        self.seconds = seconds; self.learningRate = learningRate
    }

    public static func == (a: EpochLog, b: EpochLog) -> Bool {
        a.epoch == b.epoch && a.nLoss == b.nLoss && a.iLoss == b.iLoss && a.validation?.nLoss == b.validation?.nLoss
            && a.validation?.iLoss == b.validation?.iLoss && a.seconds == b.seconds && a.learningRate == b.learningRate
    }
}

public struct RunDirectory: Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    public var configPath: String { file("config.json") }
    public var lastCheckpoint: String { file("last.safetensors") }
    public var bestCheckpoint: String { file("best.safetensors") }
    public var logPath: String { file("log.csv") }
    public var plotPath: String { file("loss.svg") }
    public var samplesDir: String { file("samples") }
    public var generatedDir: String { file("generated_images") }
    /// `rivers infer`'s contact and nearest-neighbour sheets of `generated_images/`
    /// (`InferencePlan.sheetsDir`): beside it, so that it holds generated images only.
    public var sheetsDir: String { file("sheets") }
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// `create` on rank 0 of `comm`; every rank gets its path.
    public static func create(in outDir: String, label: Int, comm: Communicator) throws -> RunDirectory {
        let path = comm.isRoot ? try create(in: outDir, label: label).path : ""
        return RunDirectory(String(decoding: comm.broadcast(Data(path.utf8), root: 0), as: UTF8.self))
    }

    /// Creates `<outDir>/L<label>_<yyyyMMdd-HHmmss>` (UTC; `-2`, `-3`, ... when a run of the same
    /// second exists). mkdir is atomic, so two runs never share a directory.
    public static func create(in outDir: String, label: Int, date: Date = Date()) throws -> RunDirectory {
        try FileOps.makeDirectory(outDir)
        let base = (outDir as NSString).appendingPathComponent("L\(label)_\(utcDate(date, "yyyyMMdd-HHmmss"))")
        for k in 1...1000 {
            let candidate = k == 1 ? base : "\(base)-\(k)"
            if mkdir(candidate, 0o755) == 0 { return RunDirectory(candidate) }
            if errno != EEXIST {
                throw RiversError.file(
                    path: candidate, reason: "cannot create folder: \(String(cString: strerror(errno)))")
            }
        }
        throw RiversError.file(path: base, reason: "too many runs created in the same second")
    }

    /// Reads `config.json`; a folder that is not a run is an error naming it.
    public func record() throws -> RunRecord {
        guard FileOps.isDirectory(path) else {
            throw RiversError.file(
                path: path,
                reason: FileManager.default.fileExists(atPath: path)
                    ? "is a file, not a run directory" : "does not exist")
        }
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw RiversError.file(
                path: configPath,
                reason: FileManager.default.fileExists(atPath: configPath)
                    ? "cannot be read (\(access(configPath, R_OK) == 0 ? "not a regular file" : "permission denied"))"
                    : "missing: \(path) is not a run directory of rivers train")
        }
        do {
            // The train section is read through its settings' rows: a value out of range names
            // this file and the key.
            let record = try JSONDecoder().decode(RunRecord.self, from: data)
            guard record.format == RunRecord.currentFormat else {
                throw RiversError.file(
                    path: configPath,
                    reason:
                        "is a run of format \(record.format), not \(RunRecord.currentFormat) (another rivers version)")
            }
            guard (1...6).contains(record.label) else {
                throw RiversError.file(path: configPath, reason: "label must be 1 to 6, got \(record.label)")
            }
            guard record.threads.map({ (1...256).contains($0) }) ?? true else {
                throw RiversError.file(path: configPath, reason: "threads must be 1 to 256, got \(record.threads!)")
            }
            return record
        } catch let error as RiversError {
            throw error.from(file: configPath)
        } catch {
            throw RiversError.file(
                path: configPath, reason: "not a run configuration of this rivers version (\(RunRecord.currentFormat))")
        }
    }

    public func write(_ record: RunRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileOps.replaceAtomically(try encoder.encode(record) + Data("\n".utf8), at: configPath)
    }

    // MARK: log.csv

    public static func logHeader(validation: Bool) -> String {
        "epoch,n_loss,i_loss" + (validation ? ",val_n_loss,val_i_loss" : "") + ",seconds,learning_rate"
    }

    /// The log as CSV text; losses with 9 significant digits (enough to tell float32 values apart).
    public static func csv(_ rows: [EpochLog], validation: Bool) -> String {
        var lines = [logHeader(validation: validation)]
        for r in rows {
            var cells = [String(r.epoch), String(format: "%.9g", r.nLoss), String(format: "%.9g", r.iLoss)]
            if validation {
                cells += [
                    String(format: "%.9g", r.validation?.nLoss ?? .nan),
                    String(format: "%.9g", r.validation?.iLoss ?? .nan),
                ]
            }
            cells += [String(format: "%.3f", r.seconds), String(format: "%g", r.learningRate)]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row of `log.csv` that was left out, or a header that is not a log's: the line
    /// (1-based; 0 for the file as a whole) and why.
    public struct LogProblem: Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public init(line: Int, reason: String) { self.line = line; self.reason = reason }
        public var description: String { line == 0 ? reason : "line \(line) \(reason)" }
    }

    /// What `log.csv` holds: the rows that can be used and what was left out.
    public struct LogContents: Sendable {
        /// The good rows, epochs increasing.
        public var rows: [EpochLog] = []
        /// The lines left out, in file order; when `readable` is false, why nothing could be used.
        public var problems: [LogProblem] = []
        /// False when the file exists but cannot be used at all (unreadable, or line 1 is not a
        /// log header): `rows` is empty and `problems` says why.
        public var readable = true
        public init() {}

        /// One line naming `path` and the problems (nil without any): at most `shown` lines cited,
        /// then how many more.
        public func summary(_ path: String, shown: Int = 5) -> String? {
            guard !problems.isEmpty else { return nil }
            if !readable { return "\(path): unreadable: \(problems[0])" }
            // Five reasons fit one readable line; a log of many bad rows is summarized by the count.
            let cited = problems.prefix(shown).map(\.description).joined(separator: "; ")
            let more =
                problems.count > shown
                ? "; and \(counted(problems.count - shown, "more line", plural: "more lines"))" : ""
            return "\(path): \(counted(problems.count, "line")) left out: \(cited)\(more)"
        }
    }

    /// Epochs are 1 ... this. Ten times num_epochs' largest value (1,000,000), so a log written
    /// under a later, larger bound still reads; small enough that sums and differences of
    /// epochs never overflow an Int, and a loss plot's x positions stay exact in a Double.
    public static let maxLoggedEpoch = 10_000_000
    /// Losses are 0 ... this: they are means of Float32 values, and a run stops on a non-finite
    /// loss, so a larger value cannot come from training.
    public static let maxLoggedLoss = Double(Float.greatestFiniteMagnitude)
    /// An epoch's seconds are 0 ... this (about 31 years): no epoch takes longer, and the sum of
    /// a log's seconds stays far inside what the report's clock shows.
    public static let maxLoggedSeconds = 1e9

    /// The rows of `log.csv` (none when it does not exist yet), or an error naming the first
    /// line that is not a good row: for callers that need the whole log. The report and a resume
    /// use `readLogContents()`, which keeps the good rows.
    public func readLog() throws -> [EpochLog] {
        let contents = readLogContents()
        if let problem = contents.problems.first { throw RiversError.file(path: logPath, reason: problem.description) }
        return contents.rows
    }

    /// The good rows of `log.csv` and the lines left out, never an error: a row is left out when
    /// a cell is missing or not a number, a loss is not finite or out of range (0 to
    /// `maxLoggedLoss`), seconds are outside 0 to `maxLoggedSeconds`, the learning rate is not
    /// finite or negative, or its epoch is not a whole number from 1 to `maxLoggedEpoch` greater
    /// than the previous good row's. Blank lines are skipped. A missing file is an empty log.
    public func readLogContents() -> LogContents {
        var out = LogContents()
        guard let data = FileManager.default.contents(atPath: logPath) else {
            if FileManager.default.fileExists(atPath: logPath) {
                out.readable = false
                out.problems = [
                    LogProblem(
                        line: 0, reason: FileOps.isDirectory(logPath) ? "is a folder, not a log" : "cannot be read")
                ]
            }
            return out
        }
        // Lines split at each "\n" byte (a "\r" before it is dropped), numbered from 1 including
        // blank ones as an editor shows them; each decoded alone, so bad bytes stay in their line.
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self)
        }
        guard let header = lines.first, !(lines.allSatisfy { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return out
        }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
        let required = ["epoch", "n_loss", "i_loss", "seconds", "learning_rate"]
        let missing = required.filter { column($0) == nil }
        guard missing.isEmpty, Set(columns).count == columns.count else {
            out.readable = false
            out.problems = [
                LogProblem(
                    line: 1,
                    reason: missing.isEmpty
                        ? "is not a training log header: a column is named twice"
                        : "is not a training log header (no \(missing.joined(separator: ", ")) column)")
            ]
            return out
        }
        let (e, n, i, s, lr) = (
            column("epoch")!, column("n_loss")!, column("i_loss")!, column("seconds")!, column("learning_rate")!
        )
        let vn = column("val_n_loss"), vi = column("val_i_loss")
        for (k, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            do throws(RowProblem) {
                let row = try Self.logRow(cells, columns: columns.count, e, n, i, s, lr, vn, vi)
                if let previous = out.rows.last, row.epoch <= previous.epoch {
                    throw RowProblem(reason: "has epoch \(row.epoch), not after epoch \(previous.epoch) above it")
                }
                out.rows.append(row)
            } catch {
                out.problems.append(LogProblem(line: k + 1, reason: error.reason))
            }
        }
        return out
    }

    struct RowProblem: Error { let reason: String }

    /// One row from its cells, or why it cannot be used.
    static func logRow(
        _ cells: [String], columns: Int, _ e: Int, _ n: Int, _ i: Int, _ s: Int, _ lr: Int, _ vn: Int?, _ vi: Int?
    ) throws(RowProblem) -> EpochLog {
        guard cells.count == columns else {
            throw RowProblem(reason: "has \(cells.count) cells, the header \(columns)")
        }
        guard let epoch = Int(cells[e]), (1...maxLoggedEpoch).contains(epoch) else {
            throw RowProblem(reason: "has epoch '\(excerpt(cells[e]))', not a whole number from 1 to \(maxLoggedEpoch)")
        }
        func number(_ index: Int, _ name: String, _ range: ClosedRange<Double>) throws(RowProblem) -> Double {
            guard let v = Double(cells[index]) else {
                throw RowProblem(reason: "has \(name) '\(excerpt(cells[index]))', not a number")
            }
            guard range.contains(v) else {
                throw RowProblem(
                    reason:
                        "has \(name) \(excerpt(cells[index])), not \(v.isFinite ? "within \(formatRange(range))" : "finite")"
                )
            }
            return v
        }
        let nLoss = try number(n, "n_loss", 0...maxLoggedLoss), iLoss = try number(i, "i_loss", 0...maxLoggedLoss)
        let seconds = try number(s, "seconds", 0...maxLoggedSeconds)
        // The learning rate is only shown; any finite value that is not negative will do.
        let rate = try number(lr, "learning_rate", 0...Double.greatestFiniteMagnitude)
        var validation: (nLoss: Double, iLoss: Double)?
        // The writer marks a row without validation with "nan" in both cells.
        if let vn, let vi, !(cells[vn].lowercased() == "nan" && cells[vi].lowercased() == "nan") {
            validation = (
                try number(vn, "val_n_loss", 0...maxLoggedLoss), try number(vi, "val_i_loss", 0...maxLoggedLoss)
            )
        }
        return EpochLog(
            epoch: epoch, nLoss: nLoss, iLoss: iLoss, validation: validation, seconds: seconds, learningRate: rate)
    }

    /// A cell as a message may quote it: printable ASCII only (others as '?'), at most 24 characters.
    static func excerpt(_ cell: String) -> String {
        // 24 characters show any number the log writes ("%.9g" needs at most 15) and keep the line short.
        let printable = String(
            cell.unicodeScalars.prefix(25).map { (0x20..<0x7F).contains($0.value) ? Character($0) : "?" })
        return printable.count > 24 ? String(printable.prefix(23)) + "…" : printable
    }

    static func formatRange(_ r: ClosedRange<Double>) -> String {
        "\(String(format: "%g", r.lowerBound)) to \(String(format: "%g", r.upperBound))"
    }

    /// The log a resume continues: the good rows up to `epoch` (the checkpoint's), with a
    /// warning line (naming log.csv and the lines) for the rows left out as unusable; later rows
    /// are what the checkpoint did not reach and are cut without a word. A log.csv that cannot be
    /// used at all is an error naming it: the resume would replace it with a new log.
    public func logForResume(through epoch: Int) throws -> (rows: [EpochLog], warning: String?) {
        let contents = readLogContents()
        guard contents.readable else {
            throw RiversError.file(
                path: logPath,
                reason:
                    "\(contents.problems.first?.description ?? "cannot be used"); move it away to resume with a new log"
            )
        }
        return (contents.rows.filter { $0.epoch <= epoch }, contents.summary(logPath))
    }

    /// Rewrites `log.csv` and `loss.svg` from `rows`, each atomically.
    public func writeLog(_ rows: [EpochLog], validation: Bool) throws {
        try FileOps.replaceAtomically(Data(RunDirectory.csv(rows, validation: validation).utf8), at: logPath)
        try FileOps.replaceAtomically(Data(LossPlot.svg(rows).utf8), at: plotPath)
    }

    /// The lock file: present while a process trains the run (a crashed one may leave it; it
    /// holds nothing, and the next run locks it again).
    public var lockPath: String { file(".lock") }

    /// Takes the run's lock (flock on `.lock`), so that two processes never train the same run
    /// at once; an error names the run when another one holds it. Returns the descriptor that
    /// holds the lock: `unlock` releases it and removes the file.
    ///
    /// The holder removes `.lock` before it lets go, so another process may have opened the
    /// file just before that and lock it once it is gone: after flock succeeds, the descriptor's
    /// file must still be the one at the path (same device and inode), else the lock is on an
    /// orphan and is taken again on the path's current file.
    public func lock() throws -> Int32 {
        for _ in 0..<1000 {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw RiversError.file(path: path, reason: "cannot be locked: \(String(cString: strerror(errno)))")
            }
            switch Self.attempt(fd, lockPath) {
            case .held: return fd
            case .busy:
                close(fd)
                throw RiversError.file(
                    path: path, reason: "is being trained by another rivers process; wait for it or stop it first")
            case .removed: close(fd)  // the holder removed it as we opened it: lock the path's file
            }
        }
        throw RiversError.file(path: lockPath, reason: "cannot be locked: it keeps being replaced")
    }

    /// What flock on an open lock file gave.
    public enum LockAttempt: Equatable, Sendable {
        /// The lock on the file at the path.
        case held
        /// Another open file holds it.
        case busy
        /// Locked, but the file is no longer the path's (its holder removed it after it was
        /// opened): a lock on nothing.
        case removed
    }

    /// Tries flock on `fd` (opened on `path`) without waiting, and checks that what it locked is
    /// still the file at `path`.
    public static func attempt(_ fd: Int32, _ path: String) -> LockAttempt {
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return .busy }
        return isCurrent(fd, path) ? .held : .removed
    }

    /// Whether the open file `fd` is the file at `path` now (not removed or replaced since it
    /// was opened).
    public static func isCurrent(_ fd: Int32, _ path: String) -> Bool {
        var held = stat(), named = stat()
        guard fstat(fd, &held) == 0, stat(path, &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }

    /// Releases the lock `lock` returned: removes `.lock` while still holding it (a process
    /// waiting on the removed file sees that it is gone and locks a new one), then closes it.
    public func unlock(_ fd: Int32) {
        guard fd >= 0 else { return }
        if Self.isCurrent(fd, lockPath) { unlink(lockPath) }
        close(fd)
    }

    /// Removes temporary files that a killed writer left behind (`.<name>.<pid>.<n>.tmp`).
    /// In the run folder, `samples/`, `generated_images/` (with the index claims of a killed
    /// `infer` writing there) and `sheets/`.
    public func removeStaleTemporaries() {
        for dir in [path, samplesDir, generatedDir, sheetsDir] { FileOps.removeStaleTemporaries(in: dir) }
        IndexClaims.removeStale(in: generatedDir)
    }

    /// How far the run's final generation has come: images made (image k draws from the
    /// generation stream's k) and the file index after the last one written. Kept in
    /// `final_images.json`, replaced after every image, so a resume makes exactly the missing ones.
    public struct FinalImages: Codable, Equatable, Sendable {
        /// The epoch whose EMA weights make them (a run trained further makes new ones).
        public var epoch = 0
        public var made = 0
        public var nextIndex = 0
        /// The file being written as image `made`: recorded before the write, so that a kill
        /// between the file and the record is settled by whether the file exists.
        public var pending: String?
        public init(epoch: Int = 0, made: Int = 0, nextIndex: Int = 0, pending: String? = nil) {
            self.epoch = epoch; self.made = made; self.nextIndex = nextIndex; self.pending = pending
        }
        enum CodingKeys: String, CodingKey { case epoch, made, nextIndex = "next_index", pending }
    }

    public var finalImagesPath: String { file("final_images.json") }

    /// The final generation's progress at `epoch` (none made when the record is missing,
    /// unreadable or of another epoch; file indices go on after the recorded ones).
    public func finalImages(epoch: Int) throws -> FinalImages {
        let f = try finalImages()
        return f.epoch == epoch ? f : FinalImages(epoch: epoch, made: 0, nextIndex: f.nextIndex)
    }

    /// The final generation's progress as recorded (none made when there is no record); an
    /// image pending at a kill counts as made when its file is there. A record that is not one,
    /// or holds values out of range, is an error naming it (a guess could remake or lose images).
    public func finalImages() throws -> FinalImages {
        guard let data = FileManager.default.contents(atPath: finalImagesPath) else {
            if FileManager.default.fileExists(atPath: finalImagesPath) {
                throw RiversError.file(path: finalImagesPath, reason: "cannot be read")
            }
            return FinalImages()
        }
        guard var f = try? JSONDecoder().decode(FinalImages.self, from: data), (0...100_000).contains(f.made),
            (0..<GeneratedNames.largestIndex).contains(f.nextIndex), (0...1_000_000).contains(f.epoch)
        else {
            throw RiversError.file(
                path: finalImagesPath,
                reason:
                    "is not a record of the final images (epoch 0 to 1000000, made 0 to 100000, next_index 0 to \(GeneratedNames.largestIndex - 1)); move it away to remake them"
            )
        }
        if let name = f.pending {
            // Only a generated image's bare name, of an index rivers gives, can be pending.
            guard let index = GeneratedNames.index(of: name), name == (name as NSString).lastPathComponent,
                index < GeneratedNames.largestIndex
            else {
                throw RiversError.file(
                    path: finalImagesPath, reason: "names \(name) as pending, not a generated image's name")
            }
            if FileManager.default.fileExists(atPath: (generatedDir as NSString).appendingPathComponent(name)) {
                f.made += 1
                f.nextIndex = max(f.nextIndex, index + 1)
            }
            f.pending = nil
        }
        return f
    }

    public func write(_ f: FinalImages) throws {
        try FileOps.replaceAtomically(try JSONEncoder().encode(f), at: finalImagesPath)
    }
}
