// `rivers balance`, step one: the plan of what to write, a pure function of file names.
import Foundation

/// One balance run: the raw dataset it reads and the balance section's settings.
@dynamicMemberLookup
public struct BalanceJob: Equatable, Sendable {
    public var inDir: String
    public var config: BalanceConfig

    public init(inDir: String, config: BalanceConfig = BalanceConfig()) {
        self.inDir = inDir; self.config = config
    }

    public subscript<T>(dynamicMember path: KeyPath<BalanceConfig, T>) -> T { config[keyPath: path] }
}

/// One rung of the ladder: rotation by `angle` degrees at `zoom`, of the flipped image or not.
public struct Rung: Equatable, Sendable {
    public let angle: Double
    public let zoom: Double
    public let flipped: Bool

    public init(angle: Double, zoom: Double, flipped: Bool) {
        self.angle = angle; self.zoom = zoom; self.flipped = flipped
    }

    /// The ladder in order: theta, flipped theta, 2 theta at fact + (fact - 1), its flip, ...
    public static func ladder(theta: Double, fact: Double, multiplier: Int) -> [Rung] {
        (1...max(multiplier, 1)).flatMap { k -> [Rung] in
            let angle = Double(k) * theta, zoom = fact + Double(k - 1) * (fact - 1)
            return [Rung(angle: angle, zoom: zoom, flipped: false), Rung(angle: angle, zoom: zoom, flipped: true)]
        }
    }

    /// `<stem>_<angle>_<-1|1>.JPG`: -1 is rotation only, 1 is flipped then rotated.
    public func outputName(forSource name: String) -> String {
        let stem = (name as NSString).deletingPathExtension
        let a = angle == angle.rounded() && abs(angle) < 1e15 ? String(Int(angle)) : String(angle)
        return "\(stem)_\(a)_\(flipped ? 1 : -1).JPG"
    }
}

public struct RotatedCopy: Equatable, Sendable {
    /// File name of the source image (in the label's input folder).
    public let source: String
    /// File name to write (in the label's output folder).
    public let output: String
    public let rung: Rung

    public init(source: String, output: String, rung: Rung) {
        self.source = source; self.output = output; self.rung = rung
    }
}

public struct SitePlan: Equatable, Sendable {
    public let site: String
    public let before: Int
    public let added: Int
    /// True when the ladder ran out before the site reached the target.
    public let capped: Bool
    public var after: Int { before + added }
}

public struct LabelPlan: Equatable, Sendable {
    public let label: Int
    public let inputDir: String
    public let outputDir: String
    /// Originals copied as they are (file names).
    public let originals: [String]
    public let target: Int
    public let sites: [SitePlan]
    public let copies: [RotatedCopy]
    /// Augmentations whose natural name (`<stem>_<angle>_<-1|1>.JPG`) was already taken by an
    /// original or an earlier augmentation (X.JPG beside X.jpg, or an input named like an
    /// augmentation), with the name they get instead.
    public let renamed: [(natural: String, copy: RotatedCopy)]

    public init(
        label: Int, inputDir: String, outputDir: String, originals: [String], target: Int, sites: [SitePlan],
        copies: [RotatedCopy],
        renamed: [(natural: String, copy: RotatedCopy)] = []
    ) {
        self.label = label; self.inputDir = inputDir; self.outputDir = outputDir; self.originals = originals
        self.target = target; self.sites = sites; self.copies = copies; self.renamed = renamed
    }

    public static func == (a: LabelPlan, b: LabelPlan) -> Bool {
        a.label == b.label && a.inputDir == b.inputDir && a.outputDir == b.outputDir && a.originals == b.originals
            && a.target == b.target
            && a.sites == b.sites && a.copies == b.copies && a.renamed.map(\.natural) == b.renamed.map(\.natural)
    }
}

public struct BalancePlan: Equatable, Sendable {
    public let labels: [LabelPlan]
    public init(labels: [LabelPlan]) { self.labels = labels }
    /// Images the plan places in the output (copies plus copies).
    public var totalImages: Int { labels.reduce(0) { $0 + $1.originals.count + $1.copies.count } }
}

public enum Balance {
    /// The site id: the file name up to the first `_` (the whole stem when there is none).
    public static func siteID(_ name: String) -> String {
        let stem = (name as NSString).deletingPathExtension
        return stem.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? stem
    }

    /// The label folder's output: `<out>/diffusion_data/L<i>/<i>`.
    public static func outputDir(_ outDir: String, label: Int) -> String {
        (outDir as NSString).appendingPathComponent("diffusion_data/L\(label)/\(label)")
    }

    /// Plans one label from the names of its readable images. Every site smaller than the
    /// largest climbs the ladder rung by rung, each rung over the site's images in a
    /// shuffled order seeded by (seed, label, site, rung), until it reaches the largest
    /// site's count or the ladder ends (at most count * 2 * multiplier new images).
    public static func planLabel(label: Int, images: [String], options: BalanceJob) -> LabelPlan {
        let bySite = Dictionary(grouping: images.sorted(), by: siteID)
        let target = bySite.values.map(\.count).max() ?? 0
        let ladder = Rung.ladder(theta: options.theta, fact: options.fact, multiplier: options.multiplier)
        var sites: [SitePlan] = []
        var copies: [RotatedCopy] = []
        for site in bySite.keys.sorted() {
            let files = bySite[site]!
            var count = files.count
            var added = 0
            rungs: for (r, rung) in ladder.enumerated() {
                var rng = SeededGenerator(seed: options.seed, stream: ["balance", String(label), site, String(r)])
                for file in files.shuffled(using: &rng) {
                    if count >= target { break rungs }
                    copies.append(RotatedCopy(source: file, output: rung.outputName(forSource: file), rung: rung))
                    count += 1
                    added += 1
                }
            }
            sites.append(SitePlan(site: site, before: files.count, added: added, capped: count < target))
        }
        // No two outputs share a name: originals keep theirs; an augmentation whose name is taken
        // gets `_2`, `_3`, ... before the extension, in plan order (deterministic), and is reported.
        var taken = Set(images)
        var renamed: [(natural: String, copy: RotatedCopy)] = []
        for k in copies.indices {
            let natural = copies[k].output
            var name = natural
            if taken.contains(name) {
                let stem = (natural as NSString).deletingPathExtension
                var n = 2
                while taken.contains("\(stem)_\(n).JPG") { n += 1 }
                name = "\(stem)_\(n).JPG"
                copies[k] = RotatedCopy(source: copies[k].source, output: name, rung: copies[k].rung)
                renamed.append((natural, copies[k]))
            }
            taken.insert(name)
        }
        return LabelPlan(
            label: label, inputDir: (options.inDir as NSString).appendingPathComponent(String(label)),
            outputDir: outputDir(options.outDir, label: label), originals: images.sorted(),
            target: target, sites: sites, copies: copies, renamed: renamed)
    }
}
