// A small synthetic raw dataset (<dir>/<label>/*.JPG), unbalanced across labels and sites.
import Foundation

public enum SampleDataset {
    /// Images per site for each label: deliberately uneven, like real monitoring data. Sites recur
    /// across labels (a camera sees its stream at many flows), and category 1 (labels 1-3, 17
    /// images) is smaller than category 2 (labels 4-6, 23 images).
    public static let layout: [Int: [(site: Int, count: Int)]] = [
        1: [(1, 4), (2, 2), (3, 1)],
        2: [(1, 3), (4, 2)],
        3: [(2, 3), (5, 1), (3, 1)],
        4: [(1, 5), (3, 2), (6, 2)],
        5: [(4, 4), (5, 2), (2, 1)],
        6: [(6, 4), (2, 3)],
    ]

    /// The file names of one label, in the field's naming scheme (`S<site>_D<mmddyy>_..._X.JPG`):
    /// the layout `copies` times, copy c dated day c + 1 of month `label` of 2025.
    public static func names(label: Int, copies: Int = 1) -> [(name: String, site: Int)] {
        var out: [(String, Int)] = []
        var n = 0
        for copy in 0..<copies {
            let date = String(format: "%02d%02d25", label, copy + 1)
            for (site, count) in layout[label] ?? [] {
                for _ in 0..<count {
                    n += 1
                    out.append(("S\(site)_D\(date)_\(date)_0_\(n)_X.JPG", site))
                }
            }
        }
        return out
    }

    /// Writes labels 1...labels under `dir` (`copies` times the layout); existing files are kept (a rerun completes a set a
    /// stop or a kill left unfinished, and removes a killed writer's temporaries). `shouldStop` is
    /// asked between images. Returns the count written.
    @discardableResult
    public static func write(
        to dir: String, labels: Int = 6, width: Int = 600, height: Int = 200, seed: UInt64 = 42, quality: Int = 90,
        copies: Int = 1, shouldStop: () -> Bool = { false }
    ) throws -> Int {
        var written = 0
        for label in 1...labels {
            let folder = (dir as NSString).appendingPathComponent(String(label))
            try FileOps.makeDirectory(folder)
            FileOps.removeStaleTemporaries(in: folder)
            for (i, (name, site)) in names(label: label, copies: copies).enumerated() {
                if shouldStop() { return written }
                let image = SyntheticRiver.image(
                    width: width, height: height, flowLabel: label, site: site, seed: seed &+ UInt64(i))
                do {
                    try ImageFile.write(image, to: folder + "/" + name, jpegQuality: quality); written += 1
                } catch RiversError.exists {}
            }
        }
        return written
    }
}
