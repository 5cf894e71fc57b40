// The model options shared by `rivers train` and the benchmarks: the model settings of
// `TrainConfig`, with their names, defaults and checks.
import Foundation
import Rivers

/// The network and run shape given on a command line.
public struct ModelOptions: Equatable {
    public var config: UNetConfig
    public var height: Int, width: Int
    public var batch: Int
    public var mixedPrecision: Bool

    /// The options, with the original's names; defaults from `defaults`.
    public static func options(defaults: TrainConfig = TrainConfig()) -> [Option] {
        TrainConfig.options(
            TrainConfig.settings.map(\.key).filter { TrainConfig.modelSettingNames.contains($0) }, defaults: defaults)
    }

    public init(_ train: TrainConfig) {
        config = train.network
        height = train.height; width = train.width
        batch = train.batchSize
        mixedPrecision = train.useMixPrecision
    }

    /// Reads and checks the options over `defaults`; a bad value names the option.
    public init(_ args: ParsedArguments, defaults: TrainConfig = TrainConfig()) throws {
        var train = defaults
        try args.apply(to: &train)
        try train.validateModel()
        self.init(train)
    }
}
