// config.default.json: every command's section, and configuration files laid over the
// built-in defaults, each value read and checked by its setting's row.
import Foundation

public struct RiversConfig: Codable, Equatable, Sendable {
    public var split = SplitConfig()
    public var balance = BalanceConfig()
    public var train = TrainConfig()
    public var generate = GenerateConfig()
    public var augment = AugmentConfig()
    public var inpaint = InpaintConfig()
    public var report = ReportConfig()
    public var demo = DemoConfig()
    public var synthesize = SynthesizeConfig()
    public var evaluate = EvaluateConfig()
    public init() {}

    /// The sections' names, in the order of config.default.json.
    public static let sectionNames = [
        "split", "balance", "train", "generate", "augment", "inpaint", "report", "demo", "synthesize", "evaluate",
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
        } catch {
            // A number past Float64 (1e999) makes the whole file unreadable to the decoder: name its
            // key, which is the one thing to fix.
            if let (section, key, number) = hugeNumber(in: String(decoding: data, as: UTF8.self)) {
                throw RiversError.setting(
                    section: section, key: key, reason: "is \(number), past any number", file: path)
            }
            throw RiversError.file(path: path, reason: "is not valid JSON")
        }
        guard case .object(let sections) = parsed else { throw bad("is not a JSON object of sections") }
        var config = RiversConfig()
        for (name, value) in sections.sorted(by: { $0.key < $1.key }) {
            guard case .object(let keys) = value else {
                guard sectionNames.contains(name) else { throw unknownSection(name, path) }
                throw bad("section '\(name)' is not an object of settings")
            }
            switch name {
            case "split": config.split = try config.split.overlaid(with: keys, file: path)
            case "balance": config.balance = try config.balance.overlaid(with: keys, file: path)
            case "train": config.train = try config.train.overlaid(with: keys, file: path)
            case "generate": config.generate = try config.generate.overlaid(with: keys, file: path)
            case "augment": config.augment = try config.augment.overlaid(with: keys, file: path)
            case "inpaint": config.inpaint = try config.inpaint.overlaid(with: keys, file: path)
            case "report": config.report = try config.report.overlaid(with: keys, file: path)
            case "demo": config.demo = try config.demo.overlaid(with: keys, file: path)
            case "synthesize": config.synthesize = try config.synthesize.overlaid(with: keys, file: path)
            case "evaluate": config.evaluate = try config.evaluate.overlaid(with: keys, file: path)
            default: throw unknownSection(name, path)
            }
        }
        return config
    }

    /// The first `"key": number` of `text` whose number is too large for a Double, with the key
    /// as `section.key` when it sits in a section.
    static func hugeNumber(in text: String) -> (section: String, key: String, number: String)? {
        guard let pair = try? NSRegularExpression(pattern: #""([^"\\]+)"\s*:\s*(-?[0-9][0-9.]*[eE][+]?[0-9]+)"#) else {
            return nil
        }
        let section = try? NSRegularExpression(pattern: #""([^"\\]+)"\s*:\s*\{"#)
        let ns = text as NSString
        for m in pair.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let number = ns.substring(with: m.range(at: 2))
            guard let v = Double(number), !v.isFinite else { continue }
            let key = ns.substring(with: m.range(at: 1))
            let before = NSRange(location: 0, length: m.range.location)
            let owner = section?.matches(in: text, range: before).last.map { ns.substring(with: $0.range(at: 1)) }
            return (owner ?? "", key, number)
        }
        return nil
    }

    static func unknownSection(_ name: String, _ path: String) -> RiversError {
        let hint = closest(name, among: sectionNames).map { " (did you mean '\($0)'?)" } ?? ""
        return .setting(
            section: "", key: "",
            reason: "has an unknown section '\(name)'\(hint) (sections: \(sectionNames.joined(separator: ", ")))",
            file: path)
    }
}
