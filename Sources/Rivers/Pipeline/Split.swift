// `rivers split`, step one: the manifest and the plan of which raw photos are held out for testing,
// whole units at a time and stratified by label (EVALUATE.md section 1), a pure function of the
// files' names, labels and hashes.
import Foundation

/// `split.json`: the split of a raw dataset, one entry per image, written by `rivers split` into
/// its output folder once every file is in place. `rivers evaluate` reads it with `read(_:)`.
public struct SplitManifest: Codable, Equatable, Sendable {
    /// The manifest's name in the output folder.
    public static let fileName = "split.json"
    /// The sides, as `Entry.side` and the output's folders name them.
    public static let train = "train", test = "test"

    /// The raw dataset, absolute with links resolved.
    public var inDir: String
    /// The unit kept whole: `group`, `image` or `site`.
    public var by: String
    public var testFraction: Double
    public var seed: UInt64
    /// Every image, in the order of `path`.
    public var entries: [Entry]

    public struct Entry: Codable, Equatable, Sendable {
        /// The source, relative to `inDir`: `<label>/<subfolders>/<name>`.
        public var path: String
        public var label: Int
        /// The file name up to the first `_` (`Balance.siteID`).
        public var site: String
        /// The field after the site when it is `D` and digits (`D010125`), else nil.
        public var date: String?
        /// `train` or `test`.
        public var side: String
        /// SHA-256 of the content, lowercase hex.
        public var sha256: String
        /// The copy, relative to the output folder: `<side>/<label>/<name>`.
        public var output: String

        public init(
            path: String, label: Int, site: String, date: String?, side: String, sha256: String, output: String
        ) {
            self.path = path; self.label = label; self.site = site; self.date = date; self.side = side
            self.sha256 = sha256; self.output = output
        }

        enum CodingKeys: String, CodingKey { case path, label, site, date, side, sha256, output }

        // A missing date is written as null, so every entry has the same keys.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path); try c.encode(label, forKey: .label); try c.encode(site, forKey: .site)
            try c.encode(date, forKey: .date); try c.encode(side, forKey: .side)
            try c.encode(sha256, forKey: .sha256); try c.encode(output, forKey: .output)
        }
    }

    enum CodingKeys: String, CodingKey {
        case inDir = "in_dir", by, testFraction = "test_fraction", seed, entries
    }

    public init(inDir: String, by: String, testFraction: Double, seed: UInt64, entries: [Entry]) {
        self.inDir = inDir; self.by = by; self.testFraction = testFraction; self.seed = seed; self.entries = entries
    }

    /// The manifest of the finished split in `dir` (an output folder of `rivers split`). Throws
    /// `RiversError.file` naming `split.json` when it is missing (or the split was not finished),
    /// cannot be read or is not a manifest.
    public static func read(_ dir: String) throws -> SplitManifest {
        let path = (dir as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            let partial = FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(partialName))
            throw RiversError.file(
                path: path,
                reason: partial
                    ? "does not exist yet: the split was stopped before it finished; run the same rivers split again"
                    : FileManager.default.fileExists(atPath: path)
                        ? "cannot be read" : "does not exist (not a folder written by rivers split)")
        }
        return try decode(data, path: path)
    }

    /// The manifest of the split in progress, written before any file (see `Split.execute`).
    static let partialName = "split.partial.json"

    static func decode(_ data: Data, path: String) throws -> SplitManifest {
        guard let manifest = try? JSONDecoder().decode(SplitManifest.self, from: data),
            manifest.entries.allSatisfy({ [train, test].contains($0.side) })
        else {
            throw RiversError.file(path: path, reason: "is not a manifest of rivers split")
        }
        return manifest
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// One image of the raw dataset, as the plan sees it.
public struct SplitSource: Equatable, Sendable {
    /// Relative to the input folder: `<label>/<subfolders>/<name>`.
    public let path: String
    public let label: Int
    public let sha256: String
    public init(path: String, label: Int, sha256: String) {
        self.path = path; self.label = label; self.sha256 = sha256
    }
}

/// What scanning a raw dataset for a split found.
public struct SplitScan: Sendable {
    /// The input folder, absolute with links resolved (as the manifest records it).
    public var inDir: String
    /// Every image of the label folders, in the order of `path`.
    public var files: [SplitSource] = []
    /// Entries that are not label folders or not images.
    public var skipped: [SkippedFile] = []
    /// Labels 1 ... 6 without a folder.
    public var missingLabels: [Int] = []
    /// Ctrl-C stopped the hashing: `files` is empty.
    public var interrupted = false

    public init(inDir: String, files: [SplitSource] = []) { self.inDir = inDir; self.files = files }
}

/// Per label: how many images, how many go to each side, and the units holding them.
public struct SplitLabelCounts: Equatable, Sendable {
    public let label: Int
    public let images: Int
    public let train: Int
    public let test: Int
    /// round(test_fraction x images), what the draw aims at.
    public let target: Int
    /// Units (groups, images or sites) holding images of the label.
    public let units: Int
}

/// What `rivers split` will write: the manifest, its counts, and what the user should know.
public struct SplitPlan: Equatable, Sendable {
    public let manifest: SplitManifest
    public let labels: [SplitLabelCounts]
    /// Units drawn (after identical files joined theirs).
    public let units: Int
    /// Files whose content an earlier file (in path order) already has: they go with it.
    public let duplicates: Int
    /// Labels without test or train images, identical files under two labels, missing label folders.
    public let warnings: [String]

    public var config: SplitConfig {
        SplitConfig(
            testFraction: manifest.testFraction, by: SplitUnit(rawValue: manifest.by) ?? .group, seed: manifest.seed)
    }
    public var trainCount: Int { manifest.entries.count(where: { $0.side == SplitManifest.train }) }
    public var testCount: Int { manifest.entries.count(where: { $0.side == SplitManifest.test }) }
}

public enum Split {
    /// The date field of a file name: the field after the site when it is `D` and digits.
    public static func date(_ name: String) -> String? {
        let stem = (name as NSString).deletingPathExtension
        let fields = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard fields.count >= 2, fields[1].count >= 2, fields[1].first == "D",
            fields[1].dropFirst().allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        return String(fields[1])
    }

    /// The unit a file belongs to under `unit`, as a key: files with one key stay together.
    static func unitKey(_ source: SplitSource, _ unit: SplitUnit) -> String {
        let name = (source.path as NSString).lastPathComponent
        switch unit {
        case .image: return "image " + source.path
        case .site: return "site " + Balance.siteID(name)
        case .group:
            guard let date = date(name) else { return "image " + source.path }
            return "group " + Balance.siteID(name) + " " + date
        }
    }

    /// The split of `scan`'s files under `config`:
    /// 1. units by `config.by`; identical files (one SHA-256) join their units, so no content is on
    ///    both sides;
    /// 2. per label, the target t_l = round(fraction x n_l) test images;
    /// 3. the units, in path order shuffled by (seed, "split"), each go to test when that lowers
    ///    sum_l |test_l - t_l| (a unit may span labels), else to train. With `image` every label gets
    ///    exactly t_l.
    /// Two files of one label with one name (in different subfolders) would be one output file:
    /// refused, naming both.
    public static func plan(_ scan: SplitScan, config: SplitConfig) throws -> SplitPlan {
        let files = scan.files.sorted { $0.path < $1.path }
        let names = files.map { ($0.path as NSString).lastPathComponent }
        var byOutput: [String: Int] = [:]
        for (i, f) in files.enumerated() {
            if let j = byOutput.updateValue(i, forKey: "\(f.label)/\(names[i])") {
                throw RiversError.file(
                    path: (scan.inDir as NSString).appendingPathComponent(files[j].path),
                    reason:
                        "and \((scan.inDir as NSString).appendingPathComponent(f.path)) would both be \(names[i]) of label \(f.label) in the split: rename or remove one (identical copies: remove one)"
                )
            }
        }

        // Units, joined through identical content (union-find over unit indices).
        var unitOf: [String: Int] = [:]
        var parent: [Int] = []
        let fileUnit = files.map { f -> Int in
            let key = unitKey(f, config.unit)
            if let u = unitOf[key] { return u }
            unitOf[key] = parent.count
            parent.append(parent.count)
            return parent.count - 1
        }
        func root(_ u: Int) -> Int {
            var u = u
            while parent[u] != u {
                parent[u] = parent[parent[u]]
                u = parent[u]
            }
            return u
        }
        var firstWithContent: [String: Int] = [:]
        var duplicates = 0
        var warnings: [String] = []
        var labelsOfContent: [String: Set<Int>] = [:]
        for (i, f) in files.enumerated() {
            labelsOfContent[f.sha256, default: []].insert(f.label)
            guard let first = firstWithContent[f.sha256] else {
                firstWithContent[f.sha256] = i
                continue
            }
            duplicates += 1
            let (a, b) = (root(fileUnit[first]), root(fileUnit[i]))
            if a != b { parent[max(a, b)] = min(a, b) }
        }
        for sha in firstWithContent.keys.sorted(by: { firstWithContent[$0]! < firstWithContent[$1]! }) {
            guard let labels = labelsOfContent[sha], labels.count > 1 else { continue }
            let paths = files.filter { $0.sha256 == sha }.map(\.path)
            warnings.append(
                "\(paths.joined(separator: ", ")) are identical but labelled \(labels.sorted().map(String.init).joined(separator: " and ")) (kept on one side)"
            )
        }

        // Each unit's files, units in the order of their first file, then shuffled.
        var members: [Int: [Int]] = [:]
        var order: [Int] = []
        for i in files.indices {
            let r = root(fileUnit[i])
            if members[r] == nil { order.append(r) }
            members[r, default: []].append(i)
        }
        var rng = SeededGenerator(seed: config.seed, stream: ["split"])
        order.shuffle(using: &rng)

        let labels = Set(files.map(\.label)).sorted()
        var total: [Int: Int] = [:]
        for f in files { total[f.label, default: 0] += 1 }
        let target = total.mapValues { Int((config.testFraction * Double($0)).rounded()) }
        var test: [Int: Int] = [:]
        var side = [String](repeating: SplitManifest.train, count: files.count)
        for u in order {
            var counts: [Int: Int] = [:]
            for i in members[u]! { counts[files[i].label, default: 0] += 1 }
            // Only the unit's labels change: compare their terms of the sum.
            let before = counts.keys.reduce(0) { $0 + abs(test[$1, default: 0] - target[$1]!) }
            let after = counts.reduce(0) { $0 + abs(test[$1.key, default: 0] + $1.value - target[$1.key]!) }
            guard after < before else { continue }
            for (label, n) in counts { test[label, default: 0] += n }
            for i in members[u]! { side[i] = SplitManifest.test }
        }

        let entries = files.enumerated().map { i, f in
            SplitManifest.Entry(
                path: f.path, label: f.label, site: Balance.siteID(names[i]), date: date(names[i]), side: side[i],
                sha256: f.sha256, output: "\(side[i])/\(f.label)/\(names[i])")
        }
        let counts = labels.map { l -> SplitLabelCounts in
            let units = Set(files.indices.filter { files[$0].label == l }.map { root(fileUnit[$0]) }).count
            let t = test[l, default: 0]
            return SplitLabelCounts(
                label: l, images: total[l]!, train: total[l]! - t, test: t, target: target[l]!, units: units)
        }
        for l in scan.missingLabels {
            warnings.append(
                "label \(l): no folder \((scan.inDir as NSString).appendingPathComponent(String(l))), so no label \(l) in the split"
            )
        }
        for c in counts where c.test == 0 || c.train == 0 {
            let held =
                config.unit == .image
                ? counted(c.images, "image")
                : "\(counted(c.images, "image")) in \(counted(c.units, config.unit == .site ? "site" : "group"))"
            warnings.append("label \(c.label) has no \(c.test == 0 ? "test" : "train") images (\(held))")
        }
        // A split with nothing on one side serves nothing: refused, not warned about.
        for (side, empty) in [
            ("test", counts.allSatisfy { $0.test == 0 }), ("train", counts.allSatisfy { $0.train == 0 }),
        ]
        where empty && !counts.isEmpty {
            throw RiversError.setting(
                section: "split", key: "test_fraction",
                reason:
                    "\(config.testFraction) leaves no label any \(side) image (\(counted(entries.count, "image")) in \(counted(order.count, "unit"))): choose a fraction that holds some out and keeps some",
                file: nil)
        }
        let manifest = SplitManifest(
            inDir: scan.inDir, by: config.by, testFraction: config.testFraction, seed: config.seed, entries: entries)
        return SplitPlan(
            manifest: manifest, labels: counts, units: order.count, duplicates: duplicates, warnings: warnings)
    }
}
