// The U-Net's hyper-parameters and the checks made before anything is built.
import Foundation

/// Widths, depth, embedding size and attention flags of docs/model.md's U-Net.
public struct UNetConfig: Equatable, Codable, Sendable {
    public var widths: [Int]
    public var blockDepth: Int
    public var embeddingDims: Int
    public var attentionInBottleneck: Bool
    public var attentionInUpDownSample: Bool

    public init(
        widths: [Int] = [64, 96, 128, 256], blockDepth: Int = 3, embeddingDims: Int = 256,
        attentionInBottleneck: Bool = false, attentionInUpDownSample: Bool = false
    ) {
        self.widths = widths; self.blockDepth = blockDepth; self.embeddingDims = embeddingDims
        self.attentionInBottleneck = attentionInBottleneck; self.attentionInUpDownSample = attentionInUpDownSample
    }

    /// Written under the keys of the run's config.json (`train` section): snake_case.
    enum CodingKeys: String, CodingKey {
        case widths, blockDepth = "block_depth", embeddingDims = "embedding_dims",
            attentionInBottleneck = "attention_in_bottleneck", attentionInUpDownSample = "attention_in_up_down_sample"
    }

    /// The camelCase keys checkpoints were written with before (they still load and resume).
    enum EarlierKeys: String, CodingKey {
        case blockDepth, embeddingDims, attentionInBottleneck, attentionInUpDownSample
    }

    /// Reads either spelling: snake_case (as written now) or the camelCase of earlier checkpoints.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        widths = try c.decode([Int].self, forKey: .widths)
        if c.contains(.blockDepth) {
            blockDepth = try c.decode(Int.self, forKey: .blockDepth)
            embeddingDims = try c.decode(Int.self, forKey: .embeddingDims)
            attentionInBottleneck = try c.decode(Bool.self, forKey: .attentionInBottleneck)
            attentionInUpDownSample = try c.decode(Bool.self, forKey: .attentionInUpDownSample)
        } else {
            let e = try decoder.container(keyedBy: EarlierKeys.self)
            blockDepth = try e.decode(Int.self, forKey: .blockDepth)
            embeddingDims = try e.decode(Int.self, forKey: .embeddingDims)
            attentionInBottleneck = try e.decode(Bool.self, forKey: .attentionInBottleneck)
            attentionInUpDownSample = try e.decode(Bool.self, forKey: .attentionInUpDownSample)
        }
    }

    /// The architecture in words, for errors: "widths 64 96 128 256, block depth 3, embedding 256,
    /// no attention".
    public var summary: String {
        let attention = [attentionInBottleneck ? "bottleneck" : nil, attentionInUpDownSample ? "up/down" : nil]
            .compactMap { $0 }
        return
            "widths \(widths.map(String.init).joined(separator: " ")), block depth \(blockDepth), embedding \(embeddingDims), \(attention.isEmpty ? "no attention" : "attention in " + attention.joined(separator: " and "))"
    }

    /// GroupNorm's group count, fixed by docs/model.md.
    public static let groups = 8

    /// Throws a one-line reason, naming the training setting, when the network cannot be built:
    /// non-positive sizes, an odd embedding size, or a GroupNorm whose channel count does not
    /// divide by 8.
    public func validate() throws {
        func bad(_ key: String, _ reason: String) -> RiversError {
            .setting(section: "train", key: key, reason: reason, file: nil)
        }
        guard !widths.isEmpty else { throw bad("widths", "needs at least one width") }
        for w in widths where w <= 0 { throw bad("widths", "must be positive (got \(w))") }
        guard blockDepth > 0 else { throw bad("block_depth", "must be positive (got \(blockDepth))") }
        guard embeddingDims > 0, embeddingDims % 2 == 0 else {
            throw bad(
                "embedding_dims", "must be a positive even number (got \(embeddingDims)): half sines, half cosines")
        }
        let g = UNetConfig.groups
        // The first GroupNorm sees the first width plus the embedding; every other one a width
        // or twice a width.
        let first = widths[0] + embeddingDims
        if first % g != 0 {
            throw bad(
                "embedding_dims",
                "\(embeddingDims) with a first width of \(widths[0]): the first residual block normalizes \(widths[0]) + \(embeddingDims) = \(first) channels, which do not divide into \(g) GroupNorm groups; choose --widths and --embedding_dims so that the sum is a multiple of \(g)"
            )
        }
        for w in widths where w % g != 0 {
            throw bad(
                "widths",
                "has \(w), which does not divide into \(g) GroupNorm groups (every width must be a multiple of \(g))")
        }
        if attentionInBottleneck && widths.last! / 8 < 1 {
            throw bad("attention_in_bottleneck", "needs a last width of at least 8 (key_dim = width / 8)")
        }
    }

    /// Throws unless an image of height x width goes down the levels and back up to exactly
    /// its own size: TensorFlow's "same" stride-2 convolution gives ceil(size / 2), and the
    /// transposed convolution doubles, so every level but the last needs an even size.
    public func validate(height: Int, width: Int) throws {
        guard height > 0, width > 0 else {
            throw RiversError.setting(
                section: "train", key: "image_size", reason: "must be positive (got \(height) \(width))", file: nil)
        }
        var (h, w) = (height, width)
        for level in 0..<(widths.count - 1) {
            if h % 2 != 0 || w % 2 != 0 {
                throw RiversError.setting(
                    section: "train", key: "image_size",
                    reason:
                        "\(height) \(width) is too small or not divisible enough for \(widths.count) widths: level \(level) is \(h)x\(w), and each of the first \(widths.count - 1) levels must have an even height and width (height and width divisible by \(1 << (widths.count - 1)))",
                    file: nil)
            }
            h /= 2; w /= 2
        }
    }
}
