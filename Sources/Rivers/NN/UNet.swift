// The U-Net of docs/model.md: its layers as a list of stages, built once from a configuration;
// network(noisy images, noise variances) -> predicted noise, and its backward pass.
import Foundation

/// One step of the network between the stem and the head.
enum Stage {
    /// Residual block (then attention when present) at a level; `pushesSkip` in the down
    /// path, `popsSkip` (concatenates a skip to its input) in the up path.
    case block(ResidualBlock, AttentionLayer?, level: Int, pushesSkip: Bool, popsSkip: Bool)
    /// swish(Conv3x3 stride 2) from `level` to level + 1.
    case down(ConvLayer, level: Int)
    /// swish(ConvTranspose3x3 stride 2) from level + 1 to `level`.
    case up(ConvLayer, level: Int)
}

/// The network: configuration, parameter layout and layers. Holds no weights and no
/// activations: those live in a `ParameterSlab` and a `UNetWorkspace`.
public final class UNet: @unchecked Sendable {
    public let config: UNetConfig
    public let layout: ParameterLayout
    let stem: ConvLayer
    let stages: [Stage]
    let head: ConvLayer

    /// Builds the layers of a configuration (checked first).
    public init(_ config: UNetConfig) throws {
        try config.validate()
        self.config = config
        var layout = ParameterLayout()
        let w = config.widths, D = config.blockDepth, E = config.embeddingDims
        stem = ConvLayer(
            &layout, "stem", kernel: 1, inChannels: 3, outChannels: w[0],
            initializer: .glorotUniform(fanIn: 3, fanOut: w[0]))
        var stages: [Stage] = []
        var channels = w[0], constants = E
        func attention(_ name: String, _ C: Int, bottleneck: Bool) -> AttentionLayer? {
            if bottleneck {
                return config.attentionInBottleneck
                    ? AttentionLayer(&layout, name, channels: C, heads: 4, keyDim: C / 8, dropout: 0.2) : nil
            }
            return config.attentionInUpDownSample
                ? AttentionLayer(&layout, name, channels: C, heads: 1, keyDim: C, dropout: 0) : nil
        }
        for level in 0..<(w.count - 1) {
            for j in 0..<D {
                let name = "down.\(level).\(j)"
                let block = ResidualBlock(
                    &layout, name, inChannels: channels, constantChannels: constants, width: w[level])
                stages.append(
                    .block(
                        block, attention(name + ".attention", w[level], bottleneck: false), level: level,
                        pushesSkip: true, popsSkip: false))
                channels = w[level]; constants = 0
            }
            stages.append(
                .down(
                    ConvLayer(
                        &layout, "down.\(level).downsample", kernel: 3, stride: 2, inChannels: channels,
                        outChannels: channels), level: level))
        }
        let last = w.count - 1
        for j in 0..<D {
            let name = "bottleneck.\(j)"
            let block = ResidualBlock(&layout, name, inChannels: channels, constantChannels: constants, width: w[last])
            stages.append(
                .block(
                    block, attention(name + ".attention", w[last], bottleneck: true), level: last, pushesSkip: false,
                    popsSkip: false))
            channels = w[last]; constants = 0
        }
        for level in (0..<(w.count - 1)).reversed() {
            stages.append(
                .up(
                    ConvLayer(
                        &layout, "up.\(level).upsample", kernel: 3, stride: 2, inChannels: channels,
                        outChannels: w[level], transposed: true), level: level))
            channels = w[level]
            for j in 0..<D {
                let name = "up.\(level).\(j)"
                let block = ResidualBlock(&layout, name, inChannels: channels + w[level], width: w[level])
                stages.append(
                    .block(
                        block, attention(name + ".attention", w[level], bottleneck: false), level: level,
                        pushesSkip: false, popsSkip: true))
                channels = w[level]
            }
        }
        head = ConvLayer(&layout, "head", kernel: 1, inChannels: w[0], outChannels: 3, initializer: .zeros)
        self.stages = stages
        self.layout = layout
    }

    /// Trainable parameters (docs/model.md's table).
    public var parameterCount: Int { layout.count }

    /// Multiply-adds x 2 of one forward pass of a batch (convolutions and dense layers; the
    /// constant channels' per-image share is not counted).
    public func forwardFlops(batch N: Int, height: Int, width: Int) -> Double {
        var f = stem.flops(batch: N, height: height, width: width) + head.flops(batch: N, height: height, width: width)
        for stage in stages {
            switch stage {
            case .block(let b, let a, let level, _, _):
                let P = (height >> level) * (width >> level)
                f += b.flops(batch: N, pixels: P)
                if let a {
                    let hd = Double(a.heads * a.keyDim)
                    f += 2 * Double(N * P) * (4 * Double(a.channels) * hd + 2 * Double(P) * hd)
                }
            case .down(let c, let level): f += c.flops(batch: N, height: height >> level, width: width >> level)
            case .up(let c, let level):
                f += c.flops(batch: N, height: height >> (level + 1), width: width >> (level + 1))
            }
        }
        return f
    }
}
