// The file names of generated images, and writing one at the next free index.
import Foundation

/// File names of generated images (PIPELINE.md section 4): site id `S0` marks synthetic images.
public enum GeneratedNames {
    /// What names one generated image, whatever the date in its name: site, index, kind
    /// (`AUG`: generated from noise, `VAR`: a variation of a real image) and label.
    public struct Identity: Hashable, Sendable {
        public let site: String, index: Int, kind: String, label: Int
        public init(site: String, index: Int, kind: String, label: Int) {
            self.site = site; self.index = index; self.kind = kind; self.label = label
        }
    }

    /// `<site>_D<date>_<date>_0_<index>_DM_<kind>_L<label>.JPG`, the date as mmddyy.
    public static func name(_ id: Identity, date: String) -> String {
        "\(id.site)_D\(date)_\(date)_0_\(id.index)_DM_\(id.kind)_L\(id.label).JPG"
    }

    /// The identity of a generated image's file name; nil for any other name.
    public static func identity(of name: String) -> Identity? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 8, parts[3] == "0", parts[5] == "DM", let index = Int(parts[4]), parts[7].hasPrefix("L"),
            parts[7].hasSuffix(".JPG"),
            let label = Int(parts[7].dropFirst().dropLast(4))
        else { return nil }
        return Identity(site: String(parts[0]), index: index, kind: String(parts[6]), label: label)
    }

    /// Indices rivers gives stay below this (10^5 images a run, far fewer runs into one folder); a
    /// name with a larger index is not taken into account, so no index arithmetic can overflow.
    public static let largestIndex = 1_000_000_000_000

    /// The index of a generated image's path, for ordering and companion file names.
    public static func index(of path: String) -> Int? { identity(of: (path as NSString).lastPathComponent)?.index }

    /// The index as text, "x" for a name that is not a generated image's.
    public static func indexTag(of path: String) -> String { index(of: path).map(String.init) ?? "x" }

    /// `S0_D<mmddyy>_<mmddyy>_0_<index>_DM_AUG_L<label>.JPG`, dated `date` (UTC).
    public static func pure(label: Int, index: Int, date: Date) -> String {
        name(Identity(site: "S0", index: index, kind: "AUG", label: label), date: utcDate(date, "MMddyy"))
    }

    /// Writes `image` under the first name `name(i)`, i = `from`, `from + 1`, ..., that is free in
    /// `dir`. link(2) claims a name atomically, so two processes writing into one folder never
    /// replace each other's images. Returns the path and the index after the one used.
    public static func writeAtNextFreeIndex(
        _ image: Image, in dir: String, from: Int, jpegQuality: Int = 95,
        name: (Int) -> String
    ) throws -> (path: String, next: Int) {
        let data = try ImageFile.encode(image, path: name(from), jpegQuality: jpegQuality)
        return try FileOps.writeNew(data, in: dir, from: from, name: name)
    }
}
