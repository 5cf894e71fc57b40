// Image counts per label and camera site at each stage of the pipeline: the raw dataset, the
// diffusion training data that `balance` writes, and the classifier dataset that `augment` writes.
import Foundation

public struct DatasetCounts: Sendable {
    public struct Stage: Sendable {
        public let name: String
        public let folder: String
        /// label -> site id -> images.
        public let counts: [Int: [String: Int]]

        public func total(label: Int) -> Int { counts[label]?.values.reduce(0, +) ?? 0 }
        public var total: Int { counts.keys.reduce(0) { $0 + total(label: $1) } }
    }

    public let stages: [Stage]

    /// The stages found in `dir`, a pipeline's working folder: the raw dataset (`split/train/1..6`
    /// when rivers split made one, else `raw/1..6`, or label
    /// folders `1..6` directly in `dir`), `diffusion_data/L1..L6` (balance) and `balanced_data/1..6`
    /// (augment). A stage that is absent is left out; none at all is an error naming the folder.
    public static func read(_ dir: String) throws -> DatasetCounts {
        guard FileOps.isDirectory(dir) else {
            throw RiversError.file(
                path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
        }
        func path(_ parts: String...) -> String { parts.reduce(dir) { ($0 as NSString).appendingPathComponent($1) } }
        // The photos balance read: rivers split's training side when there is one, else raw/.
        let raw =
            FileOps.isDirectory(path("split", "train"))
            ? path("split", "train") : FileOps.isDirectory(path("raw")) ? path("raw") : dir
        let candidates: [(String, String, (Int) -> String)] = [
            ("before balance", raw, { String($0) }),
            ("after balance", path("diffusion_data"), { "L\($0)" }),
            ("after augment", path("balanced_data"), { String($0) }),
        ]
        var stages: [Stage] = []
        for (name, folder, labelFolder) in candidates {
            var counts: [Int: [String: Int]] = [:]
            for label in 1...6 {
                let labelDir = (folder as NSString).appendingPathComponent(labelFolder(label))
                guard FileOps.isDirectory(labelDir) else { continue }
                var sites: [String: Int] = [:]
                // The image files at any depth (hidden ones left out, link loops ended); none is 0.
                // (rivers infer's sheets, which older versions wrote among the images, are not.)
                for file in (try? TrainingImages.scan(labelDir))?.images ?? [] where !LabelledFiles.isSheet(file) {
                    sites[Balance.siteID((file as NSString).lastPathComponent), default: 0] += 1
                }
                counts[label] = sites
            }
            if !counts.isEmpty { stages.append(Stage(name: name, folder: folder, counts: counts)) }
        }
        if stages.isEmpty {
            throw RiversError.file(
                path: dir, reason: "has no label folders (1..6, raw/1..6, diffusion_data/L1..L6 or balanced_data/1..6)")
        }
        return DatasetCounts(stages: stages)
    }

    /// Every site id of every stage, in a stable order (S0, the generated images, last).
    public var sites: [String] {
        let all = Set(stages.flatMap { $0.counts.values.flatMap(\.keys) })
        return all.sorted { a, b in
            let (ka, kb) = (Self.siteKey(a), Self.siteKey(b))
            return ka != kb ? ka < kb : a < b
        }
    }

    /// Sites sort by their number (S2 before S10); the generated site S0 goes last.
    static func siteKey(_ site: String) -> Int {
        guard site.first == "S", let n = Int(site.dropFirst()) else { return Int.max - 1 }
        return n == 0 ? Int.max : n
    }

    public var labels: [Int] { Array(Set(stages.flatMap(\.counts.keys))).sorted() }
}
