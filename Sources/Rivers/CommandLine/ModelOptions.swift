// The model options shared by `rivers train` and the benchmarks: the model settings of
// `TrainConfig`, with their names, defaults and checks.
import Foundation

/// The network and run shape given on a command line.
public struct ModelOptions: Equatable {
    public var config: UNetConfig
    public var height: Int, width: Int
    public var batch: Int
    public var mixedPrecision: Bool

    /// The options, with the original's names and defaults.
    public static let options: [Option] = TrainConfig.settings
        .filter { TrainConfig.modelSettingNames.contains($0.name) }.map { $0.option(defaults: TrainConfig()) }

    public init(_ train: TrainConfig) {
        config = train.network
        height = train.height; width = train.width
        batch = train.batchSize
        mixedPrecision = train.useMixPrecision
    }

    /// Reads and checks the options; a bad value is a usage error naming the option.
    public init(_ args: ParsedArguments) throws {
        var train = TrainConfig()
        try train.apply(args, only: TrainConfig.modelSettingNames)
        try train.validateModel()
        self.init(train)
    }
}
