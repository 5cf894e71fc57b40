// `rivers augment`, step one: the plan of what to generate, a pure function of the raw
// dataset's file names, the models' labels and the options. Categories end equal; labels and
// sites are raised by water-filling.
import Foundation

/// Category 1 is labels 1-3, category 2 labels 4-6 (PIPELINE.md).
public func category(ofLabel label: Int) -> Int { label <= 3 ? 1 : 2 }

extension AugmentPlan {
    /// The models the plan uses, by label (labels that get no generated image need none).
    public var models: [Int: String] {
        Dictionary(uniqueKeysWithValues: labels.compactMap { l in l.model.map { (l.label, $0) } })
    }
}

/// The labels of category 1 or 2.
public func labels(ofCategory category: Int) -> ClosedRange<Int> { category == 1 ? 1...3 : 4...6 }

/// One image to generate.
public struct AugmentItem: Equatable, Sendable {
    public let label: Int
    /// Index n of the file name; with the seed it also fixes the image's noise.
    public let index: Int
    public let strength: Double
    /// The real image a variation starts from, and its site; nil for a pure generation (site S0).
    public let source: String?
    public let site: String
    public var isVariation: Bool { source != nil }

    /// The file's identity: site, index, `AUG` (pure) or `VAR` (variation), label.
    public var identity: GeneratedNames.Identity {
        GeneratedNames.Identity(site: site, index: index, kind: isVariation ? "VAR" : "AUG", label: label)
    }

    /// `S0_D<date>_<date>_0_<n>_DM_AUG_L<label>.JPG` or `<site>_D<date>_<date>_0_<n>_DM_VAR_L<label>.JPG`.
    public func fileName(date: String) -> String { GeneratedNames.name(identity, date: date) }

    /// Whether `name` is this item's file, whatever its date (so a rerun on another day
    /// recognizes what an earlier run wrote).
    public func matches(_ name: String) -> Bool { GeneratedNames.identity(of: name) == identity }
}

public struct AugmentSite: Equatable, Sendable {
    public let site: String
    public let before: Int
    public let generated: Int
    public var after: Int { before + generated }
}

public struct AugmentLabel: Equatable, Sendable {
    public let label: Int
    public let originals: [String]
    /// Real sites in order, then `S0` (pure generations) when there are any.
    public let sites: [AugmentSite]
    public let items: [AugmentItem]
    /// The run directory that generates this label's images (nil when none is needed or given).
    public let model: String?
    public var before: Int { originals.count }
    public var after: Int { originals.count + items.count }
}

public struct AugmentPlan: Equatable, Sendable {
    public let labels: [AugmentLabel]
    public var items: [AugmentItem] { labels.flatMap(\.items) }
    public func count(category c: Int, after: Bool) -> Int {
        labels.filter { category(ofLabel: $0.label) == c }.reduce(0) { $0 + (after ? $1.after : $1.before) }
    }
}

public enum Augment {
    /// Gives `total` units one at a time to the smallest of `counts`, ties broken by `order`
    /// (earlier first): water-filling, so the smallest are raised to a common level first.
    /// Returns how many each received.
    public static func waterFill(_ counts: [Int], total: Int, order: [Int]) -> [Int] {
        var level = counts, given = [Int](repeating: 0, count: counts.count)
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        for _ in 0..<max(total, 0) {
            guard let k = level.indices.min(by: { (level[$0], rank[$0] ?? $0) < (level[$1], rank[$1] ?? $1) }) else {
                break
            }
            level[k] += 1
            given[k] += 1
        }
        return given
    }

    /// Splits `total` by `shares` (summing to 1): floors, then the largest remainders (earlier
    /// first on ties), so the parts add up exactly.
    public static func split(_ total: Int, by shares: [Double]) -> [Int] {
        let exact = shares.map { $0 * Double(total) }
        var parts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(parts[$0]), -$0) > (exact[$1] - Double(parts[$1]), -$1) }
        for k in order.prefix(total - parts.reduce(0, +)) { parts[k] += 1 }
        return parts
    }

    /// The plan for raw images `images` (label -> file paths), models by label, and options.
    public static func plan(images: [Int: [String]], models: [Int: String], options: AugmentConfig) throws
        -> AugmentPlan
    {
        var rng = SeededGenerator(seed: options.seed, stream: ["augment plan"])
        let counts = (1...6).map { images[$0]?.count ?? 0 }
        let c1 = counts[0..<3].reduce(0, +), c2 = counts[3..<6].reduce(0, +)
        let smaller = c1 <= c2 ? 1 : 2
        let deficit = abs(c1 - c2)
        let labelsOfSmaller = smaller == 1 ? [1, 2, 3] : [4, 5, 6]
        let labelOrder = Array(0..<3).shuffled(using: &rng)
        let quotas = waterFill(labelsOfSmaller.map { counts[$0 - 1] }, total: deficit, order: labelOrder)
        var labels: [AugmentLabel] = []
        for label in 1...6 {
            let originals = (images[label] ?? []).sorted()
            let quota = labelsOfSmaller.firstIndex(of: label).map { quotas[$0] } ?? 0
            if quota > 0 && models[label] == nil {
                throw RiversError.usage(
                    "label \(label) needs \(counted(quota, "generated image")) and no --weight_paths run was trained on label \(label)"
                )
            }
            labels.append(
                planLabel(
                    label, originals: originals, quota: quota, model: quota > 0 ? models[label] : nil, options: options,
                    rng: &rng))
        }
        return AugmentPlan(labels: labels)
    }

    /// One label: the quota split by strength, variations shared among the real sites by
    /// water-filling (fewest images first), sources taken in a seeded order within each site.
    static func planLabel(
        _ label: Int, originals: [String], quota: Int, model: String?, options: AugmentConfig,
        rng: inout SeededGenerator
    ) -> AugmentLabel {
        var bySite: [String: [String]] = [:]
        for path in originals { bySite[Balance.siteID((path as NSString).lastPathComponent), default: []].append(path) }
        let sites = bySite.keys.sorted()
        var parts = split(quota, by: options.probs)
        // Variations need a real image; a label without any gets pure generations instead.
        if sites.isEmpty {
            let moved = zip(options.strengths, parts).filter { $0.0 < 1 }.reduce(0) { $0 + $1.1 }
            parts = zip(options.strengths, parts).map { $0.0 < 1 ? 0 : $0.1 }
            if let pure = options.strengths.firstIndex(of: 1) { parts[pure] += moved } else { parts[0] += moved }
        }
        let variations = zip(options.strengths, parts).filter { $0.0 < 1 }.reduce(0) { $0 + $1.1 }
        let siteOrder = Array(sites.indices).shuffled(using: &rng)
        let perSite =
            sites.isEmpty ? [] : waterFill(sites.map { bySite[$0]!.count }, total: variations, order: siteOrder)
        // Sources: per site, its images in a seeded order, cycled.
        var sources: [String] = []
        for (k, site) in sites.enumerated() where perSite[k] > 0 {
            let shuffled = bySite[site]!.sorted().shuffled(using: &rng)
            sources += (0..<perSite[k]).map { shuffled[$0 % shuffled.count] }
        }
        var items: [AugmentItem] = []
        var index = 0, nextSource = 0
        // An original whose name is a generated image's (copied from another run's output) keeps
        // its identity: no item takes the same site, index and kind, so the original is never
        // counted as a generated item.
        let taken = Set(originals.compactMap { GeneratedNames.identity(of: ($0 as NSString).lastPathComponent) })
        func free(site: String, kind: String) -> Int {
            while taken.contains(GeneratedNames.Identity(site: site, index: index, kind: kind, label: label)) {
                index += 1
            }
            return index
        }
        for (strength, count) in zip(options.strengths, parts) {
            for _ in 0..<count {
                if strength < 1 && !sites.isEmpty {
                    let source = sources[nextSource]
                    nextSource += 1
                    let site = Balance.siteID((source as NSString).lastPathComponent)
                    items.append(
                        AugmentItem(
                            label: label, index: free(site: site, kind: "VAR"), strength: strength, source: source,
                            site: site))
                } else {
                    items.append(
                        AugmentItem(
                            label: label, index: free(site: "S0", kind: "AUG"), strength: 1, source: nil, site: "S0"))
                }
                index += 1
            }
        }
        var siteRows = sites.enumerated().map { k, s in
            AugmentSite(site: s, before: bySite[s]!.count, generated: perSite[k])
        }
        let pure = items.filter { !$0.isVariation }.count
        if pure > 0 {
            if let k = siteRows.firstIndex(where: { $0.site == "S0" }) {
                siteRows[k] = AugmentSite(
                    site: "S0", before: siteRows[k].before, generated: siteRows[k].generated + pure)
            } else {
                siteRows.append(AugmentSite(site: "S0", before: 0, generated: pure))
            }
        }
        return AugmentLabel(label: label, originals: originals, sites: siteRows, items: items, model: model)
    }
}

/// How much one label's generated images are enlarged: augment writes them at the raw photos'
/// size, and a model that generates smaller images has them upscaled.
public struct AugmentUpscale: Equatable, Sendable {
    public let label: Int
    /// The run directory, as given.
    public let run: String
    /// The model's image size and the raw photos' size, height then width.
    public let modelSize: [Int], outputSize: [Int]
    /// The larger of the two sides' ratios (output / model); 1 or less is no enlargement.
    public let factor: Double

    /// "3.1x"; a factor above the limit that rounds to 2.0 shows two decimals ("2.04x").
    public var factorText: String {
        let text = String(format: "%.1f", factor)
        return (text == "2.0" && factor > Augment.largestUpscale ? String(format: "%.2f", factor) : text) + "x"
    }

    /// Sizes as height x width, as --image_size gives them.
    public var modelText: String { "\(modelSize[0])x\(modelSize[1])" }
    public var outputText: String { "\(outputSize[0])x\(outputSize[1])" }
}

extension Augment {
    /// The most a model's images are enlarged (in height or width) without --allow_upscale:
    /// beyond it, generated images are visibly blurrier than the photos beside them, and a
    /// classifier can learn that blurry means synthetic.
    public static let largestUpscale = 2.0

    /// For each label that gets generated images, its model's image size (from the run's
    /// config.json) against the raw photos' `outputSize`. Part of the plan, before any work and
    /// under --dry_run: a factor above `largestUpscale` is refused (status 2, one line naming the
    /// run) unless `allow`.
    public static func upscaling(_ plan: AugmentPlan, outputSize: (width: Int, height: Int), allow: Bool) throws
        -> [AugmentUpscale]
    {
        var out: [AugmentUpscale] = []
        for label in plan.labels where !label.items.isEmpty {
            guard let run = label.model else { continue }
            let train = try RunDirectory(run).record().train
            let factor = max(
                Double(outputSize.height) / Double(train.height), Double(outputSize.width) / Double(train.width))
            let upscale = AugmentUpscale(
                label: label.label, run: run, modelSize: [train.height, train.width],
                outputSize: [outputSize.height, outputSize.width], factor: factor)
            if factor > largestUpscale && !allow {
                throw RiversError.usage(
                    "run \(run): its \(upscale.modelText) images would be upscaled \(upscale.factorText) to \(upscale.outputText); a classifier can learn 'blurry means synthetic'; train at a larger --image_size, or pass --allow_upscale"
                )
            }
            out.append(upscale)
        }
        return out
    }
}
