// The image sets of `rivers evaluate`: a folder of label folders (1 .. 6, or balance's L1 .. L6)
// per arm and for the held-out test photos, and the check that no test photo reached a
// training set (by file content, by name, by decoded pixels).
import Foundation

/// The image files of one set, by label.
public struct LabelledFiles: Sendable {
    public let dir: String
    /// (path, label 1 ... 6), in label then name order.
    public let files: [(path: String, label: Int)]
    /// Entries passed over (not label folders, not images), to report.
    public let skipped: [SkippedFile]

    /// Files per label 1 ... 6.
    public var counts: [Int] {
        var c = [Int](repeating: 0, count: 6)
        for f in files { c[f.label - 1] += 1 }
        return c
    }

    /// Reads `dir`: its label folders `1` .. `6`, or `L1` .. `L6` (balance's diffusion_data),
    /// each searched through its subfolders. Both spellings of one label is an error.
    public static func scan(_ dir: String) throws -> LabelledFiles {
        guard FileOps.isDirectory(dir) else {
            throw RiversError.file(
                path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        var folders: [Int: String] = [:], skipped: [SkippedFile] = []
        for name in names where !name.hasPrefix(".") {
            let path = (dir as NSString).appendingPathComponent(name)
            // rivers infer's sheets beside a label folder it generated into (`--out_dir DIR/3`
            // puts them in DIR/sheets): its own output, not photos, passed over without a word.
            if name == "sheets" && FileOps.isDirectory(path) { continue }
            let label: Int? =
                (1...6).map(String.init).contains(name)
                ? Int(name)
                : (name.hasPrefix("L") ? Int(name.dropFirst()).flatMap { (1...6).contains($0) ? $0 : nil } : nil)
            guard let label, FileOps.isDirectory(path) else {
                skipped.append(SkippedFile(path: path, reason: "not a label folder (1 .. 6 or L1 .. L6), skipped"))
                continue
            }
            if let other = folders[label] {
                throw RawDataset.twoFolders(dir, label: label, (other as NSString).lastPathComponent, name)
            }
            folders[label] = path
        }
        guard !folders.isEmpty else {
            throw RiversError.file(path: dir, reason: "has no label folders (1 .. 6, or L1 .. L6 as balance writes)")
        }
        var files: [(String, Int)] = []
        for label in folders.keys.sorted() {
            // An empty label folder is allowed (that label has no images in this set).
            guard let scan = try? TrainingImages.scan(folders[label]!) else { continue }
            for path in scan.images {
                if isSheet(path) {
                    skipped.append(SkippedFile(path: path, reason: "a sheet rivers infer writes, not a photo; skipped"))
                } else {
                    files.append((path, label))
                }
            }
            skipped += scan.ignored
        }
        guard !files.isEmpty else { throw RiversError.file(path: dir, reason: "has no images in its label folders") }
        return LabelledFiles(dir: dir, files: files, skipped: skipped)
    }

    /// The contact sheets and nearest-neighbour sheets `rivers infer` wrote among its images
    /// before they moved to `sheets/` beside them: folders of that layout still read.
    public static func isSheet(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent
        return (name.hasPrefix("contact_sheet_L") || name.hasPrefix("nearest_neighbors_L")) && name.hasSuffix(".png")
    }

    /// Decodes every file at the classifier's size (class = label - 1); undecodable files are
    /// returned as skipped.
    public func load(height: Int, width: Int, progress: ProgressBar? = nil) -> (LabelledImages, [SkippedFile]) {
        let (images, failures) = TrainingImages.load(
            files.map(\.path), height: height, width: width, progress: progress)
        let labelOf = Dictionary(files.map { ($0.path, $0.label) }, uniquingKeysWith: { a, _ in a })
        return (LabelledImages(images: images, classes: images.paths.map { labelOf[$0]! - 1 }), failures)
    }
}

extension LabelledImages {
    /// The SHA-256 of each image's decoded bytes, by path: equal for the same pixels.
    public func pixelHashes() -> [String: String] {
        let per = images.height * images.width * 3
        var out: [String: String] = [:]
        images.pixels.withUnsafeBytes { raw in
            for (i, path) in images.paths.enumerated() {
                out[path] = SHA256.hex(Data(raw[(i * per)..<((i + 1) * per)]))
            }
        }
        return out
    }
}

/// What ties a training file to a test photo.
public enum Leakage {
    /// A file's name without its extension.
    static func stem(_ path: String) -> String {
        ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// Whether `name` is `stem` or starts with it followed by `_`, `-`, `.` or a space (balance's
    /// `<stem>_<angle>_<flip>`, a copy's `<stem>_2`); `S1_img1` does not match `S1_img10`.
    static func derives(_ name: String, from stem: String) -> Bool {
        guard name.hasPrefix(stem) else { return false }
        let rest = name.dropFirst(stem.count)
        return rest.isEmpty || "_-. ".contains(rest.first!)
    }

    /// Throws an error naming both files when a training file has a test photo's content
    /// (SHA-256 of the file), starts with a test photo's name, or decodes to its pixels at
    /// the classifier's size (`trainPixels`, `testPixels`: the SHA-256 of each decoded image's
    /// bytes by path).
    public static func check(
        train: [String], test: [String], trainPixels: [String: String] = [:], testPixels: [String: String] = [:],
        arm: String
    ) throws {
        try check(train: train, trainPixels: trainPixels, against: TestPhotos(test, pixels: testPixels), arm: arm)
    }

    /// The test photos as the checks look them up: by content, by name and by decoded pixels,
    /// each file hashed once however many training sets are checked against it.
    public struct TestPhotos: Sendable {
        var byHash: [String: String] = [:]
        /// Stems by their first 4 characters (shorter stems whole), so each training name is
        /// compared with few stems: a name's candidates are under its first 1, 2, 3 and 4 characters.
        var stems: [String: [(stem: String, path: String)]] = [:]
        var byPixels: [String: String] = [:]

        public init(_ paths: [String], pixels: [String: String] = [:]) {
            for path in paths {
                if let hash = try? SHA256.hex(file: path) { byHash[hash] = path }
                let s = Leakage.stem(path)
                stems[String(s.prefix(4)), default: []].append((s, path))
            }
            for (path, key) in pixels { byPixels[key] = path }
        }

        /// The test photo `name` (a training file's stem) is named after, if any.
        func source(named name: String) -> String? {
            for k in 1...4 where k <= name.count {
                if let found = stems[String(name.prefix(k))]?.first(where: { derives(name, from: $0.stem) }) {
                    return found.path
                }
            }
            return nil
        }
    }

    /// `check` against test photos indexed once.
    public static func check(
        train: [String], trainPixels: [String: String] = [:], against test: TestPhotos, arm: String
    ) throws {
        let listed = Set(train)
        for path in train + trainPixels.keys.filter({ !listed.contains($0) }).sorted() {
            if let source = test.source(named: stem(path)) {
                throw leak(path, source, arm, "is named after the test photo")
            }
            if !test.byHash.isEmpty, let hash = try? SHA256.hex(file: path), let source = test.byHash[hash] {
                throw leak(path, source, arm, "has the same content as the test photo")
            }
            if let key = trainPixels[path], let source = test.byPixels[key] {
                throw leak(path, source, arm, "has the same pixels as the test photo")
            }
        }
    }

    static func leak(_ path: String, _ source: String, _ arm: String, _ how: String) -> RiversError {
        .file(
            path: path,
            reason:
                "(training set '\(arm)') \(how) \(source): a test photo reached a training set; split first and build every training set from the train side only"
        )
    }
}
