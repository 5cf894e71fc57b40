// `rivers infer`, step one: the plan of what to generate (batch, indices, memory).
import Foundation

/// What `rivers infer` will do: a value, printed by `--dry_run`.
public struct InferencePlan: Sendable {
    public var count: Int
    public var sampler: any GenerationSampler
    public var seed: UInt64
    public var batch: Int
    public var outDir: String
    /// Where the contact sheet and the nearest-neighbour sheet go: `sheets/` beside `outDir`
    /// (`InferencePlan.sheetsDir`), so that the images' folder holds generated images only.
    public var sheetsDir: String
    public var label: Int
    /// The first file index: one past the largest index of a generated image already in `outDir`.
    public var firstIndex: Int
    public var memoryBytes: Int

    public init(
        count: Int, sampler: any GenerationSampler, seed: UInt64, batch: Int, outDir: String, label: Int,
        firstIndex: Int,
        memoryBytes: Int
    ) {
        self.count = count; self.sampler = sampler; self.seed = seed; self.batch = batch
        self.outDir = outDir; self.sheetsDir = InferencePlan.sheetsDir(outDir: outDir); self.label = label;
        self.firstIndex = firstIndex; self.memoryBytes = memoryBytes
    }

    /// The folder of the sheets of images generated into `outDir`: `sheets` beside it (`RUN/sheets`
    /// for `RUN/generated_images`), so that a folder of generated images can feed a classifier
    /// as it is. (`<name>_sheets` when `outDir` is itself named `sheets`.)
    public static func sheetsDir(outDir: String) -> String {
        let last = (outDir as NSString).lastPathComponent
        // "." or ".." have no parent by their text: the absolute path has.
        let base =
            [".", "..", "/", ""].contains(last) ? URL(fileURLWithPath: outDir).standardizedFileURL.path : outDir
        let name = (base as NSString).lastPathComponent == "sheets" ? "sheets_sheets" : "sheets"
        return (FileOps.parent(base) as NSString).appendingPathComponent(name)
    }

    /// The largest batch up to 8 (more does not help a CPU) and up to `count` whose memory stays
    /// within half of `available`, at least 1.
    public static func automaticBatch(_ model: TrainedModel, count: Int, available: Int) throws -> Int {
        var batch = 1
        for b in 1...max(1, min(count, 8)) where try model.memory(batch: b) <= available / 2 { batch = b }
        return batch
    }

    /// One past the largest index used in `dir` by a generated image of `label`
    /// (`S0_..._0_<n>_DM_..._L<label>.JPG`) or claimed by a running process.
    public static func nextIndex(in dir: String, label: Int) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var next = 0
        for name in names {
            if let id = GeneratedNames.identity(of: name), id.site == "S0", id.kind == "AUG", id.label == label,
                id.index < GeneratedNames.largestIndex
            {
                next = max(next, id.index + 1)
            } else if name.hasPrefix(IndexClaims.prefix(label)),
                let n = Int(name.dropFirst(IndexClaims.prefix(label).count)),
                (0..<GeneratedNames.largestIndex).contains(n),
                !IndexClaims.isStale((dir as NSString).appendingPathComponent(name))
            {
                next = max(next, n + 1)
            }
        }
        return next
    }
}
