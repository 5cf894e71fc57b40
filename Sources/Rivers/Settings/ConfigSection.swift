// Groups of settings: a command's section of config.default.json (a `ConfigSection`), or the
// options only a command line gives. Reading, writing and checking go through the rows.
import Foundation

/// Settings that belong together, each declared once as a row.
public protocol SettingGroup: Equatable, Sendable {
    /// The built-in defaults.
    init()
    /// The section's name in configuration files: errors name `train.batch_size`.
    static var name: String { get }
    static var settings: [Setting<Self>] { get }
    /// Checks between settings, beyond each one's own range.
    func validateTogether() throws
}

/// A section of config.default.json, written and read under its settings' keys.
public protocol ConfigSection: SettingGroup, Codable {}

extension SettingGroup {
    public func validateTogether() throws {}

    public static func setting(_ key: String) -> Setting<Self>? { settings.first { $0.key == key } }

    /// Sets one setting from command-line words; a refusal names the option.
    public mutating func set(_ key: String, words: [String]) throws {
        guard let s = Self.setting(key) else { throw RiversError.usage("\(Self.name) has no setting '\(key)'") }
        if let reason = s.setWords(&self, words) {
            throw RiversError.setting(section: Self.name, key: key, reason: reason, file: nil)
        }
    }

    /// Sets one setting from a JSON value; a refusal names the key (and the file, added by the reader).
    public mutating func set(_ key: String, json: JSONValue) throws {
        guard let s = Self.setting(key) else {
            let hint = closest(key, among: Self.settings.map(\.key)).map { " (did you mean '\($0)'?)" } ?? ""
            throw RiversError.setting(
                section: Self.name, key: key, reason: "is not a setting of '\(Self.name)'\(hint)", file: nil)
        }
        if let reason = s.setJSON(&self, json) {
            throw RiversError.setting(section: Self.name, key: key, reason: reason, file: nil)
        }
    }

    /// Every setting within its range, then the checks between settings.
    public func validate() throws {
        for s in Self.settings {
            if let reason = s.problem(self) {
                throw RiversError.setting(section: Self.name, key: s.key, reason: reason, file: nil)
            }
        }
        try validateTogether()
    }

    /// The value of one setting as command-line words joined by spaces.
    public func shown(_ key: String) -> String? { Self.setting(key).map { $0.words(self).joined(separator: " ") } }

    /// The keys whose values differ between this group and `other`.
    public func differences(from other: Self) -> [String] {
        Self.settings.filter { $0.json(self) != $0.json(other) }.map(\.key)
    }

    /// The command-line words that turn `base` into this group: one option per setting that
    /// differs, in the settings' order (a flag that is off is left out).
    public func arguments(from base: Self = Self()) -> [String] {
        var words: [String] = []
        for s in Self.settings where s.json(self) != s.json(base) {
            switch s.arity {
            case .flag: if s.json(self) == .bool(true) { words.append("--" + s.key) }
            case .one, .many: words += ["--" + s.key] + s.words(self)
            }
        }
        return words
    }

    /// A throw of `.setting` for `key` of this group, for the checks between settings.
    public static func refuse(_ key: String, _ reason: String) -> RiversError {
        .setting(section: name, key: key, reason: reason, file: nil)
    }
}

extension ConfigSection {
    /// Reads the keys present over the built-in defaults, each through its row, then checks the
    /// whole section: a section read from a file is always valid.
    public init(from decoder: Decoder) throws {
        self.init()
        let values = try decoder.singleValueContainer().decode([String: JSONValue].self)
        for key in values.keys.sorted() { try set(key, json: values[key]!) }
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Dictionary(uniqueKeysWithValues: Self.settings.map { ($0.key, $0.json(self)) }))
    }

    /// This section laid over by `values` (a file's section), checked; errors name `file`.
    public func overlaid(with values: [String: JSONValue], file: String) throws -> Self {
        var section = self
        do {
            for key in values.keys.sorted() { try section.set(key, json: values[key]!) }
            try section.validate()
        } catch let e as RiversError {
            throw e.from(file: file)
        }
        return section
    }
}

extension Setting {
    /// This setting of a group held at `path` of `Outer`.
    public func lifted<Outer>(_ path: WritableKeyPath<Outer, Section>) -> Setting<Outer> {
        Setting<Outer>(
            key: key, help: help, placeholder: placeholder, arity: arity, range: range, bounds: bounds, kind: kind,
            json: { self.json($0[keyPath: path]) }, words: { self.words($0[keyPath: path]) },
            setWords: { outer, w in self.setWords(&outer[keyPath: path], w) },
            setJSON: { outer, v in self.setJSON(&outer[keyPath: path], v) },
            problem: { self.problem($0[keyPath: path]) })
    }
}
