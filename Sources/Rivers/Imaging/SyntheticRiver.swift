// Procedural river-site pictures: the tool's own sample data, made from a seed, no files needed.
import Foundation

public enum SyntheticRiver {
    /// A river scene: sky, a far bank, water whose level rises with `flowLabel` (1...6), and
    /// a site look (bank colour and slope) chosen by `site`. Deterministic in all arguments.
    public static func image(width: Int = 600, height: Int = 200, flowLabel: Int, site: Int, seed: UInt64) -> Image {
        var rng = SeededGenerator(seed: seed, stream: ["synthetic", String(flowLabel), String(site)])
        let siteRng = SeededGenerator(seed: 0, stream: ["site", String(site)])
        var s = siteRng
        let bankColour = (Float(60 + Int(s.uniform() * 60)), Float(90 + Int(s.uniform() * 70)), Float(40 + Int(s.uniform() * 40)))
        let slope = (s.uniform() - 0.5) * 0.3
        let waterLine = Float(height) * (0.75 - 0.07 * Float(flowLabel - 1)) + (rng.uniform() - 0.5) * 6
        let bankTop = waterLine - Float(height) * (0.18 + 0.1 * s.uniform())
        let phase = rng.uniform() * 6.28
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let fx = Float(x), fy = Float(y)
                let tilt = slope * (fx - Float(width) / 2)
                let noise = (rng.uniform() - 0.5) * 10
                var c: (Float, Float, Float)
                if fy < bankTop + tilt + 4 * sin(fx / 37 + phase) {
                    let t = fy / max(bankTop, 1)
                    c = (150 + 60 * t, 180 + 40 * t, 230 - 20 * t)
                } else if fy < waterLine + tilt * 0.3 {
                    let tree = 12 * sin(fx / 9 + phase) * sin(fx / 23)
                    c = (bankColour.0 + tree, bankColour.1 + tree, bankColour.2 + tree)
                } else {
                    let depth = (fy - waterLine) / Float(height)
                    let streak = 14 * sin(fx / 15 + fy / 3 + phase) * Float(flowLabel) / 6
                    c = (70 - 30 * depth + streak, 95 - 20 * depth + streak, 110 + 20 * depth + streak)
                }
                let i = (y * width + x) * 3
                px[i] = UInt8(max(0, min(255, c.0 + noise)))
                px[i + 1] = UInt8(max(0, min(255, c.1 + noise)))
                px[i + 2] = UInt8(max(0, min(255, c.2 + noise)))
            }
        }
        return Image(width: width, height: height, pixels: px)
    }
}
