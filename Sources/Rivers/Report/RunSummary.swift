// What the report shows of one trained run, read from its run directory: the loss log, the sample
// grids over the epochs, the generated images beside the training images, the memorization check
// and the label measure.
import Foundation

public struct RunSummary: Sendable {
    public let directory: RunDirectory
    public let record: RunRecord
    /// The good rows of log.csv and the lines left out (`readLogContents`).
    public let logContents: RunDirectory.LogContents
    /// The good rows of log.csv, epochs increasing.
    public var log: [EpochLog] { logContents.rows }
    /// One line naming log.csv and the lines left out, or that it is unreadable; nil when all is well.
    public var logProblem: String? { logContents.summary(directory.logPath) }
    /// `samples/epoch_NNNN.png`, by epoch.
    public let sampleGrids: [(epoch: Int, path: String)]
    /// The run's generated images (`generated_images/`, by index), at the model's size.
    public let generated: [(name: String, image: Image)]
    /// The training images (at most `maxReal`), center-cropped and resized to the model's size.
    public let real: [(path: String, image: Image)]
    /// Why no training images could be read, when none could.
    public let realProblem: String?
    /// For each generated image, its nearest training image (empty without training images).
    public let matches: [Memorization.Match]

    /// The run directory's own name (such as `L2_20261130-023035`), for headings.
    public var name: String {
        (URL(fileURLWithPath: directory.path).standardizedFileURL.path as NSString).lastPathComponent
    }

    public var height: Int { record.train.height }
    public var width: Int { record.train.width }

    /// Reads a run directory. A folder without config.json is an error naming it; missing parts
    /// (no log yet, no generated images, training images moved) give empty parts, and a log.csv
    /// with bad rows gives its good rows (the others are named in `logContents`).
    public static func load(_ path: String, maxGenerated: Int = 24, maxReal: Int = 400) throws -> RunSummary {
        let directory = RunDirectory(path)
        let record = try directory.record()
        let log = directory.readLogContents()
        let H = record.train.height, W = record.train.width
        func atModelSize(_ image: Image) -> Image {
            image.width == W && image.height == H
                ? image
                : Geometry.resizeBilinear(Geometry.cropToAspectRatio(image, width: W, height: H), width: W, height: H)
        }
        let grids = ((try? FileManager.default.contentsOfDirectory(atPath: directory.samplesDir)) ?? []).compactMap {
            name -> (Int, String)? in
            guard name.hasPrefix("epoch_"), name.hasSuffix(".png"), let epoch = Int(name.dropFirst(6).dropLast(4))
            else { return nil }
            return (epoch, (directory.samplesDir as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.generatedDir)) ?? [])
            .compactMap { name in GeneratedNames.identity(of: name).map { (name, $0.index) } }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        let generated = names.prefix(maxGenerated).compactMap { name, _ -> (String, Image)? in
            (try? ImageFile.read((directory.generatedDir as NSString).appendingPathComponent(name))).map {
                (name, atModelSize($0))
            }
        }
        var real: [(String, Image)] = [], problem: String?
        do {
            let scan = try TrainingImages.scan(record.inDir)
            for p in spread(scan.images, count: maxReal) {
                if let image = try? ImageFile.read(p) { real.append((p, atModelSize(image))) }
            }
            if real.isEmpty { problem = "none of the images at \(record.inDir) could be read" }
        } catch {
            problem =
                "the training images at \(record.inDir) cannot be read: \((error as? RiversError)?.description ?? "\(error)")"
        }
        let matches =
            real.isEmpty
            ? []
            : Memorization.nearest(
                generated.map { Memorization.thumbnail($0.1, height: H, width: W) },
                among: real.map { Memorization.thumbnail($0.1, height: H, width: W) })
        return RunSummary(
            directory: directory, record: record, logContents: log, sampleGrids: grids, generated: generated,
            real: real, realProblem: problem, matches: matches)
    }

    /// At most `count` items of `items`, evenly spread from the first to the last.
    public static func spread<T>(_ items: [T], count: Int) -> [T] {
        guard items.count > count, count > 0 else { return count > 0 ? items : [] }
        if count == 1 { return [items[items.count - 1]] }
        return (0..<count).map { items[$0 * (items.count - 1) / (count - 1)] }
    }

    /// The run directories named by `paths`: a run directory itself, or a folder whose
    /// subfolders are runs (such as `models/`), expanded in name order.
    public static func expand(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for path in paths {
            if FileManager.default.fileExists(atPath: RunDirectory(path).configPath) { out.append(path); continue }
            guard FileOps.isDirectory(path) else {
                throw RiversError.file(
                    path: path,
                    reason: FileManager.default.fileExists(atPath: path)
                        ? "is not a run directory (no config.json)" : "does not exist")
            }
            let runs = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                .map { (path as NSString).appendingPathComponent($0) }
                .filter { FileManager.default.fileExists(atPath: RunDirectory($0).configPath) }
            if runs.isEmpty {
                throw RiversError.file(path: path, reason: "is not a run directory (no config.json) and holds none")
            }
            out += runs
        }
        return out
    }
}

/// The label measure of the synthetic scenes (SyntheticRiver.waterFraction) over one run's training
/// images and its generated images: does each label's model generate its own label's content?
public struct LabelMeasure: Sendable {
    public struct Row: Sendable {
        public let label: Int
        public let real: (mean: Double, sd: Double, count: Int)
        public let generated: (mean: Double, sd: Double, count: Int)
    }

    public let rows: [Row]

    public init(_ runs: [RunSummary]) {
        func stats(_ images: [Image]) -> (Double, Double, Int) {
            let v = images.map(SyntheticRiver.waterFraction)
            guard !v.isEmpty else { return (.nan, .nan, 0) }
            let mean = v.reduce(0, +) / Double(v.count)
            let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(v.count - 1, 1))).squareRoot()
            return (mean, sd, v.count)
        }
        rows = runs.sorted { $0.record.label < $1.record.label }.map { run in
            Row(
                label: run.record.label, real: stats(run.real.map(\.image)),
                generated: stats(run.generated.map(\.image)))
        }
    }

    /// Pairs of labels (a < b) whose real means are in order, and how many of them the generated
    /// means keep in the same order.
    public var orderedPairs: (kept: Int, of: Int) {
        var kept = 0, total = 0
        for i in rows.indices {
            for j in rows.indices
            where rows[i].label < rows[j].label && rows[i].real.count > 0 && rows[j].real.count > 0
                && rows[i].real.mean < rows[j].real.mean && rows[i].generated.count > 0 && rows[j].generated.count > 0
            {
                total += 1
                if rows[i].generated.mean < rows[j].generated.mean { kept += 1 }
            }
        }
        return (kept, total)
    }

    /// label, then real and generated as mean ± sd (n), as text rows for a table.
    public var table: [[String]] {
        func cell(_ s: (mean: Double, sd: Double, count: Int)) -> String {
            s.count == 0 ? "-" : String(format: "%.3f ± %.3f (%d)", s.mean, s.sd, s.count)
        }
        return [["label", "real: water fraction", "generated: water fraction"]]
            + rows.map { ["L\($0.label)", cell($0.real), cell($0.generated)] }
    }
}

extension RunSummary {
    /// Every run of `paths`, ordered by label then path; `loaded` is called after each.
    public static func loadAll(_ paths: [String], loaded: () -> Void = {}) throws -> [RunSummary] {
        var runs: [RunSummary] = []
        for path in paths {
            runs.append(try load(path))
            loaded()
        }
        return runs.sorted { ($0.record.label, $0.directory.path) < ($1.record.label, $1.directory.path) }
    }
}
