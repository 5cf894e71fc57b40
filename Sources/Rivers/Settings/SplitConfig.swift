// `rivers split`'s section: what share of each label is held out for testing, and the unit kept whole.
import Foundation

public struct SplitConfig: ConfigSection {
    /// The share of each label's images held out for testing.
    public var testFraction = 0.2
    /// The unit never cut between train and test: `group` (site and date), `image` or `site`.
    public var by = "group"
    public var seed: UInt64 = 42

    public init() {}
    public init(testFraction: Double = 0.2, by unit: SplitUnit = .group, seed: UInt64 = 42) {
        self.testFraction = testFraction; self.by = unit.rawValue; self.seed = seed
    }
    public static let name = "split"

    /// `by` as a unit (the setting's range admits only the three names).
    public var unit: SplitUnit { SplitUnit(rawValue: by) ?? .group }

    public static let settings: [Setting<SplitConfig>] = [
        Setting(
            "test_fraction", "share of each label's images held out for testing", \.testFraction, placeholder: "F",
            range: .between(0, 1, lowOpen: true, highOpen: true)),
        Setting(
            "by", "the unit kept whole on one side (group: a site's photos of one date)", \.by, placeholder: "UNIT",
            range: .oneOf(SplitUnit.allCases.map(\.rawValue))),
        Setting(SharedSettings.seed.help("seed of the order in which units are drawn"), \.seed),
    ]
}

/// What `rivers split` keeps whole on one side.
public enum SplitUnit: String, CaseIterable, Sendable {
    /// A camera's photos of one date (`<site>_D<digits>_...`); an image whose name has no date is
    /// its own group. Same-day photos are near-duplicates, so this is the default.
    case group
    /// Every image on its own: exactly round(fraction x count) test images per label.
    case image
    /// Every photo of a camera: a test on cameras never seen.
    case site
}
