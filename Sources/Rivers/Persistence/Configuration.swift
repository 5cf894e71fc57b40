// The typed configuration of every command: one struct per section of config.default.json,
// whose settings are also the command-line options, with their range checks.
import Foundation

/// One setting of a configuration section: its option name (also its JSON key), its help, and
/// how a command line sets it. Ranges are checked by the section's `validate`, so a value from a
/// configuration file and one from a flag pass the same checks.
public struct Setting<Section> {
    public let name: String
    public let help: String
    public let placeholder: String
    public let arity: Option.Arity
    /// The value of a section as command-line words (a flag: "true" or "false").
    let show: (Section) -> String
    /// Sets the value from the words given after the option (none for a flag).
    let apply: (inout Section, [String]) throws -> Void

    /// The command-line option, its default shown from `defaults`.
    public func option(defaults: Section) -> Option {
        Option(name: name, help: help, value: placeholder, defaultValue: arity == .flag ? nil : show(defaults), arity: arity)
    }

    static func int(_ name: String, _ help: String, _ path: WritableKeyPath<Section, Int>, _ placeholder: String = "N") -> Setting {
        Setting(name: name, help: help, placeholder: placeholder, arity: .one, show: { String($0[keyPath: path]) }) { section, words in
            guard let v = Int(words[0]) else { throw UsageError(description: "--\(name) must be a whole number, got '\(words[0])'") }
            section[keyPath: path] = v
        }
    }

    static func seed(_ name: String, _ help: String, _ path: WritableKeyPath<Section, UInt64>) -> Setting {
        Setting(name: name, help: help, placeholder: "N", arity: .one, show: { String($0[keyPath: path]) }) { section, words in
            guard let v = UInt64(words[0]) else { throw UsageError(description: "--\(name) must be a whole number from 0 to \(UInt64.max), got '\(words[0])'") }
            section[keyPath: path] = v
        }
    }

    static func double(_ name: String, _ help: String, _ path: WritableKeyPath<Section, Double>, _ placeholder: String = "X") -> Setting {
        Setting(name: name, help: help, placeholder: placeholder, arity: .one, show: { formatNumber($0[keyPath: path]) }) { section, words in
            // NaN and infinities parse as Doubles; every range check below refuses them.
            guard let v = Double(words[0]) else { throw UsageError(description: "--\(name) must be a number, got '\(words[0])'") }
            section[keyPath: path] = v
        }
    }

    static func ints(_ name: String, _ help: String, _ path: WritableKeyPath<Section, [Int]>, _ placeholder: String) -> Setting {
        Setting(name: name, help: help, placeholder: placeholder, arity: .many, show: { $0[keyPath: path].map(String.init).joined(separator: " ") }) { section, words in
            section[keyPath: path] = try words.map { w in
                guard let v = Int(w) else { throw UsageError(description: "--\(name) takes whole numbers, got '\(w)'") }
                return v
            }
        }
    }

    static func flag(_ name: String, _ help: String, _ path: WritableKeyPath<Section, Bool>) -> Setting {
        Setting(name: name, help: help, placeholder: "", arity: .flag, show: { String($0[keyPath: path]) }) { section, _ in
            section[keyPath: path] = true
        }
    }

    /// A true/false value that defaults to true (a flag could not turn it off).
    static func bool(_ name: String, _ help: String, _ path: WritableKeyPath<Section, Bool>) -> Setting {
        Setting(name: name, help: help, placeholder: "true|false", arity: .one, show: { String($0[keyPath: path]) }) { section, words in
            guard let v = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][words[0].lowercased()] else {
                throw UsageError(description: "--\(name) takes true or false, got '\(words[0])'")
            }
            section[keyPath: path] = v
        }
    }

    static func string(_ name: String, _ help: String, _ path: WritableKeyPath<Section, String>, _ placeholder: String = "DIR") -> Setting {
        Setting(name: name, help: help, placeholder: placeholder, arity: .one, show: { $0[keyPath: path] }) { section, words in
            section[keyPath: path] = words[0]
        }
    }
}

/// A whole number without a decimal point, anything else as Swift prints it.
public func formatNumber(_ v: Double) -> String {
    v.isFinite && v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

/// A configuration section: Codable under the same keys as its settings' names.
public protocol ConfigSection: Codable, Equatable {
    init()
    static var settings: [Setting<Self>] { get }
    /// Range checks; a bad value is a usage error naming the option.
    func validate() throws
}

extension ConfigSection {
    /// Applies every setting given on the command line.
    public mutating func apply(_ args: ParsedArguments, only names: Set<String>? = nil) throws {
        for s in Self.settings where args.has(s.name) && (names?.contains(s.name) ?? true) {
            try s.apply(&self, args.values[s.name] ?? [])
        }
    }

    /// The settings' options, with defaults shown from `defaults`.
    public static func options(defaults: Self = Self()) -> [Option] { settings.map { $0.option(defaults: defaults) } }

    /// The settings given on the command line whose value differs from this section's.
    public func conflicts(with args: ParsedArguments) throws -> [String] {
        var changed: [String] = []
        for s in Self.settings where args.has(s.name) {
            var copy = self
            try s.apply(&copy, args.values[s.name] ?? [])
            if copy != self { changed.append(s.name) }
        }
        return changed
    }

    /// The value of one setting as command-line words.
    public func shown(_ name: String) -> String? { Self.settings.first { $0.name == name }?.show(self) }

    /// The command-line words that turn `base` into this section: one option per setting that
    /// differs, in the settings' order. (A flag cannot be turned off; one that is off is left out.)
    public func arguments(from base: Self = Self()) -> [String] {
        var words: [String] = []
        for s in Self.settings where s.show(self) != s.show(base) {
            switch s.arity {
            case .flag: if s.show(self) == "true" { words.append("--" + s.name) }
            case .one: words += ["--" + s.name, s.show(self)]
            case .many: words += ["--" + s.name] + s.show(self).split(separator: " ").map(String.init)
            }
        }
        return words
    }
}

/// `rivers balance`'s section.
public struct BalanceConfig: ConfigSection, Sendable {
    public var outDir = "."
    public var labels = 3
    public var theta = 5.0
    public var fact = 1.3
    public var multiplier = 6
    public var seed: UInt64 = 42
    public var jpegQuality = 95

    public init() {}

    enum CodingKeys: String, CodingKey {
        case outDir = "out_dir", labels, theta, fact, multiplier, seed, jpegQuality = "jpeg_quality"
    }

    public static let settings: [Setting<BalanceConfig>] = [
        .string("out_dir", "where diffusion_data/ is written", \.outDir),
        .int("labels", "3: labels 1-3; 6: labels 1-6", \.labels),
        .double("theta", "degrees added per rung", \.theta, "DEG"),
        .double("fact", "zoom of the first rung (rung k: fact + (k-1)(fact-1))", \.fact),
        .int("multiplier", "number of rungs (angles theta .. multiplier*theta)", \.multiplier),
        .seed("seed", "seed of the shuffles", \.seed),
        .int("jpeg_quality", "quality of written JPEGs (1-100)", \.jpegQuality, "Q"),
    ]

    public func validate() throws {
        func bad(_ s: String) -> UsageError { UsageError(description: s) }
        guard !outDir.isEmpty else { throw bad("--out_dir must not be empty") }
        guard labels == 3 || labels == 6 else { throw bad("--labels must be 3 or 6, got \(labels)") }
        guard theta.isFinite && theta != 0 && abs(theta) <= 360 else {
            throw bad("--theta must be a non-zero number of degrees from -360 to 360, got \(formatNumber(theta))")
        }
        guard (1...1000).contains(multiplier) else { throw bad("--multiplier must be 1 to 1000, got \(multiplier)") }
        // Rung k zooms fact + (k - 1)(fact - 1): below 1 the rotation's black corners stay in the
        // crop (and the zoom of later rungs falls to 0 and below); past 1000 nothing is left to crop.
        let lastZoom = fact + Double(multiplier - 1) * (fact - 1)
        guard fact.isFinite && fact >= 1 else { throw bad("--fact must be a zoom of at least 1 (below 1 the rotation's black corners stay in the image), got \(formatNumber(fact))") }
        guard lastZoom <= 1000 else {
            throw bad("--fact \(formatNumber(fact)) with --multiplier \(multiplier) zooms the last rung by \(formatNumber(lastZoom)); the largest zoom is 1000")
        }
        guard (1...100).contains(jpegQuality) else { throw bad("--jpeg_quality must be 1 to 100, got \(jpegQuality)") }
    }
}

/// `rivers train`'s section: PIPELINE.md section 2 with the original's names and defaults.
public struct TrainConfig: ConfigSection, Sendable {
    public var outDir = "models"
    public var imageSize = [200, 600]
    public var numEpochs = 300
    public var batchSize = 8
    public var learningRate = 1e-5
    public var useMixPrecision = false
    public var embeddingDims = 256
    public var widths = [64, 96, 128, 256]
    public var blockDepth = 3
    public var attentionInBottleneck = false
    public var attentionInUpDownSample = false
    public var imagesToGenerate = 5
    public var generateDiffusionSteps = 30
    public var eta = 0.0
    public var seed: UInt64 = 42
    public var validationSplit = 0.0
    public var ema = 0.999
    public var minSignalRate = 0.01
    public var maxSignalRate = 0.95
    public var earlyStopping = true
    public var generateOnEpoch = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case outDir = "out_dir", imageSize = "image_size", numEpochs = "num_epochs", batchSize = "batch_size"
        case learningRate = "learning_rate", useMixPrecision = "use_mix_precision", embeddingDims = "embedding_dims"
        case widths, blockDepth = "block_depth", attentionInBottleneck = "attention_in_bottleneck"
        case attentionInUpDownSample = "attention_in_up_down_sample", imagesToGenerate = "images_to_generate"
        case generateDiffusionSteps = "generate_diffusion_steps", eta, seed, validationSplit = "validation_split", ema
        case minSignalRate = "min_signal_rate", maxSignalRate = "max_signal_rate", earlyStopping = "early_stopping"
        case generateOnEpoch = "generate_on_epoch"
    }

    /// The settings that shape the network and its memory (shared with the benchmarks).
    public static let modelSettingNames: Set<String> = ["image_size", "widths", "block_depth", "embedding_dims", "attention_in_bottleneck",
                                                        "attention_in_up_down_sample", "batch_size", "use_mix_precision"]

    public static let settings: [Setting<TrainConfig>] = [
        .string("out_dir", "where the run directory L<label>_<time>/ is created", \.outDir),
        .ints("image_size", "image height and width", \.imageSize, "H W"),
        .int("num_epochs", "epochs of the whole run (when resuming: the total, not more)", \.numEpochs),
        .int("batch_size", "images per step", \.batchSize),
        .double("learning_rate", "AdamW learning rate (weight decay is a tenth of it)", \.learningRate),
        .flag("use_mix_precision", "keep activations for the backward pass as Float16 (compute stays Float32)", \.useMixPrecision),
        .int("embedding_dims", "size of the noise embedding", \.embeddingDims),
        .ints("widths", "channel widths of the U-Net's levels", \.widths, "W"),
        .int("block_depth", "residual blocks per level", \.blockDepth),
        .flag("attention_in_bottleneck", "4-head attention after each bottleneck block", \.attentionInBottleneck),
        .flag("attention_in_up_down_sample", "1-head attention after each down and up block", \.attentionInUpDownSample),
        .int("images_to_generate", "images generated with the EMA weights at the end (and in sample grids)", \.imagesToGenerate),
        .int("generate_diffusion_steps", "DDIM steps of those generations", \.generateDiffusionSteps),
        .double("eta", "DDIM eta of those generations: 0 deterministic (what the original really did), 1 DDPM-like", \.eta),
        .seed("seed", "seed of weights, shuffles, noise and diffusion times", \.seed),
        .double("validation_split", "fraction of the images held out for val_ metrics (0: none)", \.validationSplit),
        .double("ema", "decay of the EMA weights that generate", \.ema),
        .double("min_signal_rate", "signal rate at diffusion time 1", \.minSignalRate),
        .double("max_signal_rate", "signal rate at diffusion time 0", \.maxSignalRate),
        .bool("early_stopping", "stop when n_loss stops improving (from epoch ceil(epochs/2), patience ceil(that/4))", \.earlyStopping),
        .int("generate_on_epoch", "write a sample grid every N epochs (0: never)", \.generateOnEpoch),
    ]

    public var height: Int { imageSize.count == 2 ? imageSize[0] : 0 }
    public var width: Int { imageSize.count == 2 ? imageSize[1] : 0 }
    public var network: UNetConfig {
        UNetConfig(widths: widths, blockDepth: blockDepth, embeddingDims: embeddingDims,
                   attentionInBottleneck: attentionInBottleneck, attentionInUpDownSample: attentionInUpDownSample)
    }
    public var schedule: CosineSchedule { CosineSchedule(minSignalRate: minSignalRate, maxSignalRate: maxSignalRate) }

    /// Checks the settings that shape the network and its memory.
    public func validateModel() throws {
        func bad(_ s: String) -> UsageError { UsageError(description: s) }
        guard imageSize.count == 2 else { throw bad("--image_size takes two numbers, height and width (got \(imageSize.count))") }
        guard batchSize > 0 else { throw bad("--batch_size must be positive (got \(batchSize))") }
        do {
            try network.validate()
            try network.validate(height: height, width: width)
        } catch let error as RiversError {
            throw bad(error.description)
        }
    }

    public func validate() throws {
        func bad(_ s: String) -> UsageError { UsageError(description: s) }
        try validateModel()
        guard !outDir.isEmpty else { throw bad("--out_dir must not be empty") }
        guard (1...1_000_000).contains(numEpochs) else { throw bad("--num_epochs must be 1 to 1000000, got \(numEpochs)") }
        guard learningRate.isFinite, learningRate > 0, learningRate <= 1 else {
            throw bad("--learning_rate must be a positive number up to 1, got \(formatNumber(learningRate))")
        }
        guard (0...100_000).contains(imagesToGenerate) else { throw bad("--images_to_generate must be 0 to 100000, got \(imagesToGenerate)") }
        guard (1...10_000).contains(generateDiffusionSteps) else { throw bad("--generate_diffusion_steps must be 1 to 10000, got \(generateDiffusionSteps)") }
        guard eta.isFinite, (0...1).contains(eta) else { throw bad("--eta must be from 0 to 1, got \(formatNumber(eta))") }
        guard validationSplit.isFinite, validationSplit >= 0, validationSplit < 1 else {
            throw bad("--validation_split must be at least 0 and below 1, got \(formatNumber(validationSplit))")
        }
        guard ema.isFinite, (0...1).contains(ema) else { throw bad("--ema must be from 0 to 1, got \(formatNumber(ema))") }
        guard minSignalRate.isFinite, maxSignalRate.isFinite, 0 < minSignalRate, minSignalRate < maxSignalRate, maxSignalRate < 1 else {
            throw bad("--min_signal_rate and --max_signal_rate must satisfy 0 < min < max < 1, got \(formatNumber(minSignalRate)) and \(formatNumber(maxSignalRate))")
        }
        guard generateOnEpoch >= 0 else { throw bad("--generate_on_epoch must be 0 (never) or a positive number of epochs, got \(generateOnEpoch)") }
    }
}

/// config.default.json: every section. The built-in defaults are `RiversConfig()`; a test keeps
/// the shipped file equal to them.
public struct RiversConfig: Codable, Equatable, Sendable {
    public var balance = BalanceConfig()
    public var train = TrainConfig()
    public init() {}

    /// The built-in defaults with a configuration file laid over them: any subset of sections
    /// and keys; an unknown section or key, or a value of the wrong type, is an error naming it.
    public static func load(_ path: String) throws -> RiversConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileOps.isDirectory(path) ? "is a folder, not a configuration file"
                : FileManager.default.fileExists(atPath: path) ? "cannot be read (permission denied?)" : "does not exist"
            throw RiversError.file(path: path, reason: reason)
        }
        guard let user = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw RiversError.file(path: path, reason: "not a JSON object of sections")
        }
        let base = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(RiversConfig())) as! [String: [String: Any]]
        var merged = base
        for (section, value) in user {
            guard let defaults = base[section] else {
                throw RiversError.file(path: path, reason: "unknown section '\(section)' (sections: \(base.keys.sorted().joined(separator: ", ")))")
            }
            guard let keys = value as? [String: Any] else { throw RiversError.file(path: path, reason: "section '\(section)' is not an object") }
            for (key, v) in keys {
                guard defaults[key] != nil else {
                    let hint = closest(key, among: Array(defaults.keys)).map { " (did you mean '\($0)'?)" } ?? ""
                    throw RiversError.file(path: path, reason: "unknown key '\(section).\(key)'\(hint)")
                }
                merged[section]![key] = v
            }
        }
        do {
            return try JSONDecoder().decode(RiversConfig.self, from: try JSONSerialization.data(withJSONObject: merged))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).filter { Int($0) == nil }.joined(separator: ".")
            throw RiversError.file(path: path, reason: "'\(key)' has a value of the wrong type")
        }
    }
}
