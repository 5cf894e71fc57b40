// Seeded random numbers: every random choice in the tool takes one of these, passed in.
import Foundation

/// xoshiro256** seeded through SplitMix64: fast, small state, reproducible across platforms.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    /// A cached second normal from the Box-Muller pair.
    private var spareNormal: Float? = nil

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator for one named stream of a run: the same (seed, parts) always give the
    /// same numbers, independent of the order in which streams are created.
    public init(seed: UInt64, stream parts: [String]) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a: stable across processes, unlike Hasher
        for byte in parts.joined(separator: "\u{1F}").utf8 {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        self.init(seed: seed ^ h)
    }

    /// The generator's whole state (four words, then the cached normal's bits plus one, or 0),
    /// for checkpoints: `init(state:)` continues the same sequence.
    public var state: [UInt64] {
        [s.0, s.1, s.2, s.3, spareNormal.map { UInt64($0.bitPattern) + 1 } ?? 0]
    }

    /// Restores a generator from `state`; nil when the words are not a valid state.
    public init?(state: [UInt64]) {
        guard state.count == 5, state[0] | state[1] | state[2] | state[3] != 0, state[4] <= UInt64(UInt32.max) + 1
        else { return nil }
        s = (state[0], state[1], state[2], state[3])
        spareNormal = state[4] == 0 ? nil : Float(bitPattern: UInt32(state[4] - 1))
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Float {
        if let z = spareNormal { spareNormal = nil; return z }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * log(Double(u1))).squareRoot(), a = 2 * Double.pi * Double(u2)
        spareNormal = Float(r * sin(a))
        return Float(r * cos(a))
    }
}
