// The model options shared by `rivers train`, `infer` and the benchmarks: one list, one parser.
import Foundation

/// The network and run shape given on a command line.
public struct ModelOptions: Equatable {
    public var config: UNetConfig
    public var height: Int, width: Int
    public var batch: Int
    public var mixedPrecision: Bool

    /// The options, with the original's names and defaults.
    public static let options: [Option] = [
        Option(name: "image_size", help: "image height and width", value: "H W", defaultValue: "200 600", arity: .many),
        Option(name: "widths", help: "channel widths of the U-Net's levels", value: "W", defaultValue: "64 96 128 256", arity: .many),
        Option(name: "block_depth", help: "residual blocks per level", value: "N", defaultValue: "3"),
        Option(name: "embedding_dims", help: "size of the noise embedding", value: "N", defaultValue: "256"),
        Option(name: "attention_in_bottleneck", help: "4-head attention after each bottleneck block", arity: .flag),
        Option(name: "attention_in_up_down_sample", help: "1-head attention after each down and up block", arity: .flag),
        Option(name: "batch_size", help: "images per step", value: "N", defaultValue: "8"),
        Option(name: "use_mix_precision", help: "keep activations for the backward pass as Float16 (compute stays Float32)", arity: .flag),
    ]

    /// Reads and checks the options; a bad value is a usage error naming the option.
    public init(_ args: ParsedArguments) throws {
        let size = try args.ints("image_size")
        guard size.count == 2 else { throw UsageError(description: "--image_size takes two numbers, height and width (got \(size.count))") }
        height = size[0]; width = size[1]
        config = UNetConfig(widths: try args.ints("widths"), blockDepth: try args.int("block_depth"), embeddingDims: try args.int("embedding_dims"),
                            attentionInBottleneck: args.has("attention_in_bottleneck"), attentionInUpDownSample: args.has("attention_in_up_down_sample"))
        batch = try args.int("batch_size")
        mixedPrecision = args.has("use_mix_precision")
        do {
            try config.validate()
            try config.validate(height: height, width: width)
        } catch let error as RiversError {
            throw UsageError(description: error.description)
        }
        guard batch > 0 else { throw UsageError(description: "--batch_size must be positive (got \(batch))") }
    }
}
