// `rivers balance`'s section: the rotation/flip ladder and where it writes.
import Foundation

public struct BalanceConfig: ConfigSection {
    public var outDir = "."
    /// 3: labels 1...3; 6: labels 1...6.
    public var labels = 3
    /// Degrees added per rung of the ladder.
    public var theta = 5.0
    /// Zoom of the first rung; rung k zooms fact + (k - 1)(fact - 1).
    public var fact = 1.3
    /// Number of rungs (each a rotation and a flipped rotation).
    public var multiplier = 6
    public var seed: UInt64 = 42
    public var jpegQuality = 95

    public init() {}
    public static let name = "balance"

    public static let settings: [Setting<BalanceConfig>] = [
        Setting(SharedSettings.outDir.help("where diffusion_data/ is written"), \.outDir),
        Setting(SharedSettings.labels, \.labels),
        Setting(
            "theta", "degrees added per rung", \.theta, placeholder: "DEG",
            range: SettingRange("a non-zero number of degrees from -360 to 360") {
                $0.isFinite && $0 != 0 && abs($0) <= 360
            }),
        // Below 1 the rotation's black corners stay in the crop; the last rung's zoom is checked below.
        Setting(
            "fact", "zoom of the first rung (rung k: fact + (k-1)(fact-1))", \.fact, placeholder: "X",
            range: SettingRange(
                "a zoom of at least 1 and at most 1000 (below 1 the rotation's black corners stay in the image)"
            ) {
                $0.isFinite && $0 >= 1 && $0 <= 1000
            }),
        // Rungs times images per site bound the files written (at most 2 x 1000 per original).
        Setting(
            "multiplier", "number of rungs (angles theta .. multiplier*theta)", \.multiplier, range: .within(1...1000)),
        Setting(SharedSettings.seed.help("seed of the shuffles"), \.seed),
        Setting("jpeg_quality", "quality of written JPEGs", \.jpegQuality, placeholder: "Q", range: .within(1...100)),
    ]

    public func validateTogether() throws {
        // Past a zoom of 1000 nothing of the image is left to crop.
        let lastZoom = fact + Double(multiplier - 1) * (fact - 1)
        guard lastZoom <= 1000 else {
            throw Self.refuse(
                "fact",
                "\(formatNumber(fact)) with --multiplier \(multiplier) zooms the last rung by \(formatNumber(lastZoom)); the largest zoom is 1000"
            )
        }
    }
}
