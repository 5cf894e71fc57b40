// A raw dataset's folder: label folders 1 .. 6, and everything else in it reported, so that a
// folder named like a label (01, L1) is never silently passed over or taken for another.
import Foundation

public enum RawDataset {
    /// What in `inDir` is not a label folder 1 ... 6 (hidden entries aside), to be reported as
    /// skipped. A folder with files whose name means a label (`01`, `L1`) beside that label's own
    /// folder is an error naming both: the two would map to one label.
    public static func otherEntries(_ inDir: String) throws -> [SkippedFile] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: inDir)) ?? []).sorted()
        var skipped: [SkippedFile] = []
        for name in names where !name.hasPrefix(".") && !(1...6).map(String.init).contains(name) {
            let path = (inDir as NSString).appendingPathComponent(name)
            guard FileOps.isDirectory(path) else {
                skipped.append(SkippedFile(path: path, reason: "not a label folder (1 .. 6), skipped"))
                continue
            }
            if let label = label(meantBy: name) {
                let empty = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).allSatisfy {
                    $0.hasPrefix(".")
                }
                if !empty && FileOps.isDirectory((inDir as NSString).appendingPathComponent(String(label))) {
                    throw twoFolders(inDir, label: label, String(label), name)
                }
                skipped.append(
                    SkippedFile(
                        path: path,
                        reason:
                            "is named like label \(label), but label folders are named 1 .. 6; skipped (rename it \(label))"
                    ))
            } else {
                skipped.append(SkippedFile(path: path, reason: "not a label folder (1 .. 6), skipped"))
            }
        }
        return skipped
    }

    /// The error of a folder holding two folders `a` and `b` of one label.
    public static func twoFolders(_ dir: String, label: Int, _ a: String, _ b: String) -> RiversError {
        .file(
            path: dir,
            reason:
                "holds two folders of label \(label) (\(a) and \(b)): one folder per label; merge them or move one away"
        )
    }

    /// The label a folder name other than `1` .. `6` seems to mean: `01`, `L1`, `l01`.
    static func label(meantBy name: String) -> Int? {
        var digits = Substring(name)
        if digits.hasPrefix("L") || digits.hasPrefix("l") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits),
            (1...6).contains(n)
        else { return nil }
        return n
    }
}
