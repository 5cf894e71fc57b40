// config.default.json: every command's section, and configuration files laid over the
// built-in defaults, each value read and checked by its setting's row.
import Foundation

public struct RiversConfig: Codable, Equatable, Sendable {
    public var balance = BalanceConfig()
    public var train = TrainConfig()
    public var generate = GenerateConfig()
    public var augment = AugmentConfig()
    public var inpaint = InpaintConfig()
    public var report = ReportConfig()
    public var demo = DemoConfig()
    public var synthesize = SynthesizeConfig()
    public init() {}

    /// The sections' names, in the order of config.default.json.
    public static let sectionNames = [
        "balance", "train", "generate", "augment", "inpaint", "report", "demo", "synthesize",
    ]

    /// The built-in defaults with a configuration file laid over them: any subset of sections
    /// and keys; an unknown section or key, a value of the wrong type or out of range, is an
    /// error naming the file and `section.key`.
    public static func load(_ path: String) throws -> RiversConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason =
                FileOps.isDirectory(path)
                ? "is a folder, not a configuration file"
                : FileManager.default.fileExists(atPath: path)
                    ? "cannot be read (permission denied?)" : "does not exist"
            throw RiversError.file(path: path, reason: reason)
        }
        // The file's shape is a setting problem too (status 2): the user's configuration is wrong.
        func bad(_ reason: String) -> RiversError { .setting(section: "", key: "", reason: reason, file: path) }
        let parsed: JSONValue
        do {
            parsed = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            let detail =
                (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                ?? context.debugDescription
            throw bad("is not valid JSON (\(detail))")
        } catch {
            throw bad("is not valid JSON")
        }
        guard case .object(let sections) = parsed else { throw bad("is not a JSON object of sections") }
        var config = RiversConfig()
        for (name, value) in sections.sorted(by: { $0.key < $1.key }) {
            guard case .object(let keys) = value else {
                guard sectionNames.contains(name) else { throw unknownSection(name, path) }
                throw bad("section '\(name)' is not an object of settings")
            }
            switch name {
            case "balance": config.balance = try config.balance.overlaid(with: keys, file: path)
            case "train": config.train = try config.train.overlaid(with: keys, file: path)
            case "generate": config.generate = try config.generate.overlaid(with: keys, file: path)
            case "augment": config.augment = try config.augment.overlaid(with: keys, file: path)
            case "inpaint": config.inpaint = try config.inpaint.overlaid(with: keys, file: path)
            case "report": config.report = try config.report.overlaid(with: keys, file: path)
            case "demo": config.demo = try config.demo.overlaid(with: keys, file: path)
            case "synthesize": config.synthesize = try config.synthesize.overlaid(with: keys, file: path)
            default: throw unknownSection(name, path)
            }
        }
        return config
    }

    static func unknownSection(_ name: String, _ path: String) -> RiversError {
        let hint = closest(name, among: sectionNames).map { " (did you mean '\($0)'?)" } ?? ""
        return .setting(
            section: "", key: "",
            reason: "has an unknown section '\(name)'\(hint) (sections: \(sectionNames.joined(separator: ", ")))",
            file: path)
    }

    /// The defaults as config.default.json writes them: sections in order, keys sorted.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let sections = try RiversConfig.sectionNames.map { name -> String in
            let mirror = Mirror(reflecting: self).children.first { $0.label == name }!.value as! any ConfigSection
            let body = String(decoding: try encoder.encode(mirror), as: UTF8.self).replacingOccurrences(
                of: "\n", with: "\n  ")
            return "  \"\(name)\": \(body)"
        }
        return "{\n" + sections.joined(separator: ",\n") + "\n}\n"
    }
}
