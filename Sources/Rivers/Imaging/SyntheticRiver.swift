// Procedural stream-site photos: the tool's own sample data, made from a seed, no files needed.
// Close views of a small stream as CT DEEP's cameras see it: a bed of rocks, gravel and leaf
// litter between vegetated banks, and water whose width, color and texture rise with the flow
// label. Each camera site has its own viewpoint, banks, palette and light; each photo varies.
import Foundation

public enum SyntheticRiver {
    /// How far across the bank-full channel the water reaches, per flow label 1...6 (1: a thread of
    /// water between exposed rocks; 6: over the whole bed and into the banks).
    public static let waterWidth: [Float] = [0.22, 0.36, 0.5, 0.66, 0.84, 1.12]
    /// How opaque and milky the water is, per flow label 1...6 (0: clear, the bed shows through).
    public static let turbidity: [Float] = [0, 0.1, 0.25, 0.45, 0.7, 0.95]

    /// A camera site's fixed look: where the channel runs in the frame, its width, bend and low-flow
    /// line, the bank vegetation and rock colors, and the light. Deterministic in the site number.
    public struct Site: Sendable {
        /// Image rows above `horizon` (a fraction of the height) show the far bank's woodland.
        public var horizon: Float
        /// The channel in ground units (1 = half the frame's width at its bottom row): center at the
        /// bottom, sideways drift per unit of distance, bend amplitude and phase, and half-width.
        public var offset: Float, drift: Float, bend: Float, phase: Float, halfWidth: Float
        /// Where low water runs across the channel (-0.5 to 0.5), the rock size, the light.
        public var thalweg: Float, rockScale: Float, light: Float
        public var cast: SIMD3<Float>, rock: SIMD3<Float>, vegetation: SIMD3<Float>

        public init(_ site: Int) {
            var g = SeededGenerator(seed: 0, stream: ["synthetic site", String(site)])
            func pick(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * g.uniform() }
            horizon = pick(0.1, 0.3)
            offset = pick(-0.5, 0.5)
            drift = pick(-0.35, 0.35)
            bend = pick(0.2, 0.8)
            phase = pick(0, 6.28)
            halfWidth = pick(1.1, 1.7)
            thalweg = pick(-0.5, 0.5)
            rockScale = pick(5, 9)
            light = pick(0.85, 1.1)
            cast = SIMD3(pick(-4, 4), pick(-3, 3), pick(-4, 4))
            rock = SIMD3(pick(125, 160), pick(110, 135), pick(85, 105))
            vegetation = SIMD3(pick(55, 90), pick(85, 120), pick(30, 50))
        }
    }

    /// One photo of `site` at `flowLabel` (1...6). The same arguments always give the same pixels.
    public static func image(width: Int = 600, height: Int = 200, flowLabel: Int, site: Int, seed: UInt64) -> Image {
        let label = min(max(flowLabel, 1), 6)
        let look = Site(site)
        var rng = SeededGenerator(seed: seed, stream: ["synthetic photo", String(label), String(site)])
        // Per photo: the camera's small shift, the day's light, tree shadows, the water's exact level.
        let shift = SIMD2<Float>((rng.uniform() - 0.5) * 0.06, (rng.uniform() - 0.5) * 0.03)
        let dayLight = look.light * (0.9 + 0.2 * rng.uniform())
        let shadowSeed = UInt32(truncatingIfNeeded: rng.next())
        let photoSeed = UInt32(truncatingIfNeeded: rng.next())
        let level = waterWidth[label - 1] * (0.94 + 0.12 * rng.uniform())
        let murk = turbidity[label - 1]
        let clear = SIMD3<Float>(38, 78, 104), milky = SIMD3<Float>(104, 120, 140)
        let water = clear + (milky - clear) * murk
        let siteSeed = UInt32(truncatingIfNeeded: site &* 7919 &+ 13)
        let aspect = Float(width) / Float(max(height, 1))
        // The ground plane seen in perspective: a row v below the horizon lies at distance
        // 1 / (v - vanish), so the bottom row is at about 1 and the far bank at several units.
        let vanish = look.horizon - 0.12

        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let v = (Float(y) + 0.5) / Float(height) + shift.y
            let gz = (1 - vanish) / max(v - vanish, 0.02)
            for x in 0..<width {
                let u = (Float(x) + 0.5) / Float(width) + shift.x
                var c: SIMD3<Float>
                let farEdge = look.horizon + 0.05 * (Noise.fbm(u * 9, 0.5, seed: siteSeed, octaves: 3) - 0.5)
                if v < farEdge {
                    // The far bank: dark woodland, lighter towards its foot.
                    let t = Noise.fbm(u * 40, v * 14, seed: siteSeed &+ 1, octaves: 4)
                    c = look.vegetation * (0.3 + 0.6 * t) * (0.7 + 0.5 * v / max(farEdge, 0.01))
                } else {
                    let gx = (u - 0.5) * aspect * gz
                    let center = look.offset + look.drift * (gz - 1) + look.bend * sin(gz * 0.7 + look.phase)
                    let s = (gx - center) / look.halfWidth
                    let bankNoise = 0.12 * (Noise.fbm(gz * 3, s < 0 ? 3 : 17, seed: siteSeed &+ 2, octaves: 3) - 0.5)
                    let side = abs(s) - bankNoise
                    if side > 1.14 {
                        // Banks: grass and shrubs, clumped, with dry patches.
                        let clump = Noise.fbm(gx * 2, gz * 2, seed: siteSeed &+ 3, octaves: 4)
                        let blade = Noise.value(gx * 30, gz * 30, seed: photoSeed &+ 4)
                        let dry = Noise.fbm(gx * 0.8, gz * 0.8, seed: siteSeed &+ 5, octaves: 2)
                        c = look.vegetation * (0.5 + 0.8 * clump + 0.3 * (blade - 0.5))
                        if dry > 0.62 { c = c * 0.6 + SIMD3(150, 130, 70) * 0.4 }
                    } else if side > 1 {
                        // The bank's margin: bare earth and stones.
                        c =
                            SIMD3<Float>(112, 92, 66)
                            * (0.75 + 0.5 * Noise.fbm(gx * 12, gz * 12, seed: siteSeed &+ 6, octaves: 3))
                    } else {
                        c = bedColor(gx: gx, gz: gz, look: look, seed: siteSeed)
                    }
                    // Water: across the channel around the low-flow line, its edge ragged by the rocks.
                    let mid = look.thalweg * max(1 - level, 0)
                    let edge = 0.12 * (Noise.fbm(gx * 3, gz * 3, seed: photoSeed &+ 7, octaves: 3) - 0.5)
                    let reach = level + edge - abs(s - mid)
                    if reach > 0 {
                        let bed = c
                        let depth = min(reach / max(level, 0.05), 1)
                        let opacity = min(0.42 + 0.5 * murk + 0.3 * depth, 0.97)
                        // Ripples drawn out along the flow, stronger in high water; sky glare far off.
                        let ripple =
                            (6 + 14 * murk) * (Noise.fbm(gx * 8, gz * 1.5, seed: photoSeed &+ 8, octaves: 3) - 0.5) * 2
                        c =
                            bed * (1 - opacity) + water * opacity + SIMD3(repeating: ripple) + SIMD3(-4, 2, 12)
                            * min(gz / 6, 1)
                        if label >= 4
                            && Noise.value(gx * 30, gz * 10, seed: photoSeed &+ 9) > 1.0 - 0.05 * Float(label - 3)
                        {
                            c = c * 0.5 + SIMD3(205, 212, 222) * 0.5  // foam on fast water
                        }
                    }
                }
                // Light: the site's cast, the day's brightness, soft shadows of the trees.
                let shadow = Noise.fbm(u * 4, v * 3, seed: shadowSeed, octaves: 3)
                let shade = 1 - 0.3 * min(max((shadow - 0.5) * 6, 0), 1)
                c = c * dayLight * shade + look.cast + SIMD3(repeating: (rng.uniform() - 0.5) * 8)
                let i = (y * width + x) * 3
                px[i] = UInt8(min(max(c.x, 0), 255))
                px[i + 1] = UInt8(min(max(c.y, 0), 255))
                px[i + 2] = UInt8(min(max(c.z, 0), 255))
            }
        }
        return Image(width: width, height: height, pixels: px)
    }

    /// The stream bed at ground point (gx, gz): rounded rocks with gravel between them and
    /// patches of fallen leaves.
    static func bedColor(gx: Float, gz: Float, look: Site, seed: UInt32) -> SIMD3<Float> {
        let (tx, ty) = (gx, gz)
        let cell = Noise.cells(tx * look.rockScale, ty * look.rockScale, seed: seed &+ 10)
        let gravel = Noise.value(tx * 60, ty * 60, seed: seed &+ 11)
        var c: SIMD3<Float>
        if cell.f2 - cell.f1 > 0.1 {
            let tone = 0.75 + 0.45 * Float(cell.id & 0xFF) / 255
            c = look.rock * tone * (1.1 - 0.6 * cell.f1 * cell.f1)
        } else {
            c = SIMD3<Float>(120, 104, 82) * (0.7 + 0.5 * gravel)
        }
        if Noise.fbm(tx * 1.5, ty * 1.5, seed: seed &+ 12, octaves: 3) > 0.66 {
            c = c * 0.35 + SIMD3<Float>(150, 92, 44) * (0.55 + 0.4 * gravel)
        }
        return c
    }

    /// Whether a pixel has the color of the scenes' water (bluer than red by a margin). The bed, the
    /// banks and the woodland are all warmer, so this separates water from the rest.
    @inlinable public static func isWaterColored(r: UInt8, g: UInt8, b: UInt8) -> Bool {
        Int(b) - Int(r) >= 12
    }

    /// The label measure that needs no trained network: the fraction of water-colored pixels.
    /// It rises with the flow label in the synthetic scenes, real and generated alike.
    public static func waterFraction(_ image: Image) -> Double {
        let n = image.width * image.height
        guard n > 0 else { return 0 }
        var count = 0
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<n where isWaterColored(r: p[3 * i], g: p[3 * i + 1], b: p[3 * i + 2]) { count += 1 }
        }
        return Double(count) / Double(n)
    }
}

/// Hash-based value noise, fractal sums of it, and cellular (Worley) noise for rocks.
enum Noise {
    @inline(__always) static func hash(_ x: Int32, _ y: Int32, _ seed: UInt32) -> UInt32 {
        var h = UInt32(bitPattern: x) &* 0x8DA6_B343 ^ UInt32(bitPattern: y) &* 0xD816_3841 ^ seed &* 0xCB1A_B31F
        h ^= h >> 13
        h &*= 0x5BD1_E995
        h ^= h >> 15
        return h
    }

    @inline(__always) static func unit(_ h: UInt32) -> Float { Float(h >> 8) * (1 / 16_777_216) }

    /// Smoothly interpolated lattice noise in [0, 1).
    static func value(_ x: Float, _ y: Float, seed: UInt32) -> Float {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int32(truncatingIfNeeded: Int(fx)), iy = Int32(truncatingIfNeeded: Int(fy))
        var ax = x - fx, ay = y - fy
        ax = ax * ax * (3 - 2 * ax)
        ay = ay * ay * (3 - 2 * ay)
        let a = unit(hash(ix, iy, seed)), b = unit(hash(ix &+ 1, iy, seed))
        let c = unit(hash(ix, iy &+ 1, seed)), d = unit(hash(ix &+ 1, iy &+ 1, seed))
        return (a + (b - a) * ax) + ((c + (d - c) * ax) - (a + (b - a) * ax)) * ay
    }

    /// Octaves of value noise, each twice the frequency and half the weight; in [0, 1).
    static func fbm(_ x: Float, _ y: Float, seed: UInt32, octaves: Int) -> Float {
        var sum: Float = 0, weight: Float = 1, total: Float = 0, f: Float = 1
        for o in 0..<octaves {
            sum += weight * value(x * f, y * f, seed: seed &+ UInt32(o) &* 101)
            total += weight
            weight *= 0.5
            f *= 2
        }
        return sum / total
    }

    /// The distances to the nearest and second-nearest of one jittered point per unit cell, and
    /// the nearest cell's hash.
    static func cells(_ x: Float, _ y: Float, seed: UInt32) -> (f1: Float, f2: Float, id: UInt32) {
        let fx = x.rounded(.down), fy = y.rounded(.down)
        let ix = Int32(truncatingIfNeeded: Int(fx)), iy = Int32(truncatingIfNeeded: Int(fy))
        var f1: Float = 9, f2: Float = 9, id: UInt32 = 0
        for dy: Int32 in -1...1 {
            for dx: Int32 in -1...1 {
                let h = hash(ix &+ dx, iy &+ dy, seed)
                let px = Float(dx) + unit(h) - (x - fx), py = Float(dy) + unit(h &* 0x9E37_79B9) - (y - fy)
                let d = (px * px + py * py).squareRoot()
                if d < f1 { f2 = f1; f1 = d; id = h } else if d < f2 { f2 = d }
            }
        }
        return (f1, f2, id)
    }
}
