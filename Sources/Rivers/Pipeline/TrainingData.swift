// The training images of one label: found below a folder, decoded once, center-cropped to the
// model's aspect ratio and resized (Keras' crop_to_aspect_ratio), held in memory as 8-bit.
import Foundation

public struct TrainingImages: Sendable {
    public let height: Int, width: Int
    /// The source of each image, in the order of `pixels`.
    public let paths: [String]
    /// count x height x width x 3 bytes.
    public let pixels: [UInt8]
    public var count: Int { paths.count }

    /// Images already decoded: `pixels` holds `paths.count` images of height x width x 3 bytes.
    public init(height: Int, width: Int, paths: [String], pixels: [UInt8]) {
        precondition(pixels.count == paths.count * height * width * 3, "one image of bytes per path")
        self.height = height; self.width = width; self.paths = paths; self.pixels = pixels
    }

    /// Refuses to train when the ranks of `comm` hold different images (a file one rank could
    /// not decode): their batches would differ. The same error on every rank.
    public func checkSame(over comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let lists = try comm.allGather(JSONEncoder().encode(paths)).map {
            try JSONDecoder().decode([String].self, from: $0)
        }
        if let (rank, other) = lists.enumerated().first(where: { $0.element != lists[0] }) {
            let differing = Set(other).symmetricDifference(lists[0]).sorted().first ?? "?"
            throw RiversError.file(
                path: differing,
                reason:
                    "was decoded by rank \(lists[0].contains(differing) ? 0 : rank) but not by rank \(lists[0].contains(differing) ? rank : 0): every rank must read the same images"
            )
        }
    }

    /// The image files below `dir` (recursively, in name order, so runs see the same order), and
    /// the other files, which are skipped (hidden files such as .DS_Store or temporary files
    /// silently).
    public static func scan(_ dir: String) throws -> (images: [String], ignored: [SkippedFile]) {
        var isDir: ObjCBool = false
        guard !dir.isEmpty, FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw RiversError.file(path: dir, reason: "does not exist")
        }
        guard isDir.boolValue else { throw RiversError.file(path: dir, reason: "is not a folder") }
        var images: [String] = [], ignored: [SkippedFile] = []
        // Folders are walked in name order, following symbolic links to folders (a label folder
        // may be a link to the raw data), each real folder once, so a link loop ends.
        var visited: Set<String> = []
        let root = FileOps.canonicalPath(dir)
        func walk(_ folder: String) {
            let real = FileOps.canonicalPath(folder)
            // A link back to the folder searched or above it would bring in other labels' images.
            if folder != dir && FileOps.isSameOrInside(root, real) {
                ignored.append(
                    SkippedFile(path: folder, reason: "links back to \(real), above or at the folder searched; skipped")
                )
                return
            }
            guard visited.insert(real).inserted else { return }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
                ignored.append(SkippedFile(path: folder, reason: "folder cannot be read, skipped"))
                return
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = (folder as NSString).appendingPathComponent(name)
                if FileOps.isDirectory(path) {
                    walk(path)
                } else if ImageFile.isImageName(name) {
                    // Only regular files (a link to one is fine): a pipe or a device would block a read.
                    var st = stat()
                    if stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                        images.append(path)
                    } else {
                        ignored.append(
                            SkippedFile(
                                path: path, reason: "not a regular file (a pipe, a device or a broken link), skipped"))
                    }
                } else {
                    ignored.append(SkippedFile(path: path, reason: "not a .jpg, .jpeg or .png image, skipped"))
                }
            }
        }
        walk(dir)
        if images.isEmpty {
            throw RiversError.file(path: dir, reason: "has no .jpg, .jpeg or .png images (searched every subfolder)")
        }
        return (images, ignored)
    }

    /// Decodes `paths` on every thread, crops each to the aspect ratio of `width`:`height` and
    /// resizes it bilinearly (TensorFlow's half-pixel rule). Files that cannot be decoded are
    /// returned, not thrown, and left out.
    public static func load(_ paths: [String], height: Int, width: Int, progress: ProgressBar? = nil) -> (
        images: TrainingImages, failures: [SkippedFile]
    ) {
        let perImage = height * width * 3
        var slots = [[UInt8]?](repeating: nil, count: paths.count)
        var errors = [String?](repeating: nil, count: paths.count)
        let lock = NSLock()
        Parallel.forEach(paths.count) { i in
            var bytes: [UInt8]? = nil, failure: String? = nil
            do {
                let image = try ImageFile.read(paths[i])
                let cropped = Geometry.cropToAspectRatio(image, width: width, height: height)
                bytes = Geometry.resizeBilinear(cropped, width: width, height: height).pixels
            } catch let e as RiversError {
                if case .file(_, let reason) = e { failure = reason } else { failure = e.description }
            } catch {
                failure = "\(error)"
            }
            lock.lock(); slots[i] = bytes; errors[i] = failure; lock.unlock()
            progress?.advance()
        }
        progress?.finish()
        var kept: [String] = [], pixels: [UInt8] = [], failures: [SkippedFile] = []
        pixels.reserveCapacity(paths.count * perImage)
        for i in paths.indices {
            if let bytes = slots[i] {
                kept.append(paths[i]); pixels += bytes
            } else {
                failures.append(SkippedFile(path: paths[i], reason: errors[i] ?? "cannot be decoded"))
            }
        }
        return (TrainingImages(height: height, width: width, paths: kept, pixels: pixels), failures)
    }

    /// Per-channel statistics of every image (docs/model.md's normalizer).
    public func normalizer() -> Normalizer {
        var statistics = Normalizer.Accumulator()
        pixels.withUnsafeBufferPointer { statistics.add($0.baseAddress!, pixels: count * height * width) }
        return statistics.finish()
    }

    /// Keras' validation_split: the images in a seeded shuffled order, the last
    /// floor(fraction x count) held out for validation.
    public func split(validation fraction: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        var order = Array(0..<count)
        guard fraction > 0 else { return (order, []) }
        var rng = SeededGenerator(seed: seed, stream: ["validation split"])
        order.shuffle(using: &rng)
        let held = Int(fraction * Double(count))
        return (Array(order[..<(count - held)]), Array(order[(count - held)...]))
    }

    /// Writes the images `indices` as floats in [0, 1] into `batch` ([indices.count, H, W, 3]).
    public func fill(_ batch: UnsafeMutablePointer<Float>, indices: ArraySlice<Int>) {
        let perImage = height * width * 3
        pixels.withUnsafeBufferPointer { src in
            for (b, i) in indices.enumerated() {
                for j in 0..<perImage { batch[b * perImage + j] = Float(src[i * perImage + j]) * (1 / 255) }
            }
        }
    }

    /// The training order of 0-based `epoch`: `train` shuffled by (seed, epoch) alone, so a
    /// resumed run sees the same order as one that never stopped.
    public static func epochOrder(_ train: [Int], epoch: Int, seed: UInt64) -> [Int] {
        var rng = SeededGenerator(seed: seed, stream: ["shuffle", String(epoch)])
        return train.shuffled(using: &rng)
    }
}
