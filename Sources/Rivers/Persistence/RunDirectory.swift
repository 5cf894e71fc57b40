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

    public static let currentFormat = "rivers-run-1"

    public init(
        label: Int, inDir: String, created: String = ISO8601DateFormatter().string(from: Date()), train: TrainConfig,
        threads: Int? = Parallel.threadCount
    ) {
        self.label = label; self.inDir = inDir; self.created = created; self.train = train; self.threads = threads
    }

    enum CodingKeys: String, CodingKey { case format, label, inDir = "in_dir", created, train, threads }
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

    /// The rows of `log.csv` (none when it does not exist yet).
    public func readLog() throws -> [EpochLog] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard let header = lines.first else { return [] }
        let columns = header.split(separator: ",").map(String.init)
        func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
        guard let e = column("epoch"), let n = column("n_loss"), let i = column("i_loss"), let s = column("seconds"),
            let lr = column("learning_rate")
        else {
            throw RiversError.file(path: logPath, reason: "not a training log (header '\(header)')")
        }
        let vn = column("val_n_loss"), vi = column("val_i_loss")
        return try lines.dropFirst().enumerated().map { k, line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == columns.count, let epoch = Int(cells[e]), let nl = Double(cells[n]),
                let il = Double(cells[i]),
                let sec = Double(cells[s]), let rate = Double(cells[lr])
            else {
                throw RiversError.file(path: logPath, reason: "line \(k + 2) is not a log row: '\(line)'")
            }
            let validation = vn.flatMap { a in
                vi.flatMap { b in Double(cells[a]).flatMap { x in Double(cells[b]).map { (x, $0) } } }
            }
            return EpochLog(
                epoch: epoch, nLoss: nl, iLoss: il, validation: validation, seconds: sec, learningRate: rate)
        }
    }

    /// Rewrites `log.csv` and `loss.svg` from `rows`, each atomically.
    public func writeLog(_ rows: [EpochLog], validation: Bool) throws {
        try FileOps.replaceAtomically(Data(RunDirectory.csv(rows, validation: validation).utf8), at: logPath)
        try FileOps.replaceAtomically(Data(LossPlot.svg(rows).utf8), at: plotPath)
    }

    /// Takes the run's lock (flock on `.lock`), so that two processes never train the same run
    /// at once; an error names the run when another one holds it. Returns the descriptor that
    /// holds the lock: closing it releases the lock.
    public func lock() throws -> Int32 {
        let fd = open(file(".lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RiversError.file(path: path, reason: "cannot be locked: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw RiversError.file(
                path: path, reason: "is being trained by another rivers process; wait for it or stop it first")
        }
        return fd
    }

    /// Removes temporary files that a killed writer left behind (`.<name>.<pid>.<n>.tmp`).
    /// In the run folder, `samples/` and `generated_images/` (with the index claims of a killed
    /// `infer` writing there).
    public func removeStaleTemporaries() {
        for dir in [path, samplesDir, generatedDir] { FileOps.removeStaleTemporaries(in: dir) }
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
        public init(epoch: Int = 0, made: Int = 0, nextIndex: Int = 0) {
            self.epoch = epoch; self.made = made; self.nextIndex = nextIndex
        }
        enum CodingKeys: String, CodingKey { case epoch, made, nextIndex = "next_index" }
    }

    public var finalImagesPath: String { file("final_images.json") }

    /// The final generation's progress at `epoch` (none made when the record is missing,
    /// unreadable or of another epoch; file indices go on after the recorded ones).
    public func finalImages(epoch: Int) -> FinalImages {
        let f = finalImages()
        return f.epoch == epoch ? f : FinalImages(epoch: epoch, made: 0, nextIndex: f.nextIndex)
    }

    /// The final generation's progress as recorded (none made when missing or unreadable).
    public func finalImages() -> FinalImages {
        guard let data = FileManager.default.contents(atPath: finalImagesPath),
            let f = try? JSONDecoder().decode(FinalImages.self, from: data), f.made >= 0, f.nextIndex >= 0, f.epoch >= 0
        else { return FinalImages() }
        return f
    }

    public func write(_ f: FinalImages) throws {
        try FileOps.replaceAtomically(try JSONEncoder().encode(f), at: finalImagesPath)
    }
}
