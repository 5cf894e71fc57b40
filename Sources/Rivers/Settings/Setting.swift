// One setting declared once: its key (the JSON key, and with -- the flag), help, type, valid
// range and place in its section. The same row reads a flag, a --config file and a run's
// config.json, and checks all three the same way.
import Foundation

/// The values a setting accepts, with the words that describe them ("1 to 1000000").
public struct SettingRange<Value>: Sendable {
    /// Completes "must be ...".
    public let text: String
    /// Whether the help lists the range (not for "a non-empty path": every path is).
    public let inHelp: Bool
    public let contains: @Sendable (Value) -> Bool

    /// For whole numbers (or lists of them): the smallest and largest valid value.
    public let bounds: ClosedRange<Int>?

    public init(
        _ text: String, inHelp: Bool = true, bounds: ClosedRange<Int>? = nil,
        _ contains: @escaping @Sendable (Value) -> Bool
    ) {
        self.text = text; self.inHelp = inHelp; self.bounds = bounds; self.contains = contains
    }
}

extension SettingRange where Value == Int {
    public static func within(_ r: ClosedRange<Int>) -> SettingRange {
        SettingRange("\(r.lowerBound) to \(r.upperBound)", bounds: r) { r.contains($0) }
    }
}

extension SettingRange where Value == Double {
    /// A finite number between the bounds, each bound included unless it is marked open.
    public static func between(_ low: Double, _ high: Double, lowOpen: Bool = false, highOpen: Bool = false)
        -> SettingRange
    {
        let (a, b) = (formatNumber(low), formatNumber(high))
        let text =
            switch (lowOpen, highOpen) {
            case (false, false): "from \(a) to \(b)"
            case (false, true): "at least \(a) and below \(b)"
            case (true, false): "above \(a) and at most \(b)"
            case (true, true): "above \(a) and below \(b)"
            }
        return SettingRange(text) { v in
            v.isFinite && (lowOpen ? v > low : v >= low) && (highOpen ? v < high : v <= high)
        }
    }
}

extension SettingRange where Value == String {
    public static var nonEmpty: SettingRange { SettingRange("a non-empty path", inHelp: false) { !$0.isEmpty } }
    public static func oneOf(_ choices: [String]) -> SettingRange {
        SettingRange(choices.joined(separator: " or ")) { choices.contains($0) }
    }
}

extension SettingRange where Value == String? {
    public static var nonEmpty: SettingRange {
        SettingRange("a non-empty path", inHelp: false) { $0.map { !$0.isEmpty } ?? true }
    }
}

extension SettingRange where Value == Int? {
    public static func within(_ r: ClosedRange<Int>) -> SettingRange {
        SettingRange("\(r.lowerBound) to \(r.upperBound)", bounds: r) { $0.map { r.contains($0) } ?? true }
    }
}

extension SettingRange where Value == [String] {
    public static var nonEmptyPaths: SettingRange {
        SettingRange("non-empty paths", inHelp: false) { $0.allSatisfy { !$0.isEmpty } }
    }
}

extension SettingRange where Value == [Int] {
    public static func list(count: ClosedRange<Int>, each r: ClosedRange<Int>) -> SettingRange {
        let n =
            count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound) to \(count.upperBound)"
        return SettingRange("\(n) whole numbers, each \(r.lowerBound) to \(r.upperBound)", bounds: r) { v in
            count.contains(v.count) && v.allSatisfy { r.contains($0) }
        }
    }
}

extension SettingRange where Value == [Double] {
    public static func list(count: ClosedRange<Int>, each r: SettingRange<Double>) -> SettingRange {
        let n =
            count.lowerBound == count.upperBound ? "\(count.lowerBound)" : "\(count.lowerBound) to \(count.upperBound)"
        return SettingRange("\(n) numbers, each \(r.text)") { v in
            count.contains(v.count) && v.allSatisfy { r.contains($0) }
        }
    }
}

/// A setting of one type and range, not yet placed in a section: settings that several sections
/// share (--eta, --seed, --generate_diffusion_steps) are declared once as a row and placed in
/// each with `Setting(row, \.path)`.
public struct SettingRow<Value: SettingValue>: Sendable {
    public let key: String
    public let help: String
    public let placeholder: String
    public let arity: SettingArity
    public let range: SettingRange<Value>?

    public init(
        _ key: String, _ help: String, placeholder: String? = nil, flag: Bool = false, range: SettingRange<Value>? = nil
    ) {
        self.key = key; self.help = help; self.range = range
        self.arity = flag ? .flag : Value.arity
        self.placeholder = placeholder ?? (flag ? "" : Value.self == Bool.self ? "true|false" : "N")
    }

    /// The same setting with another help text (the section says what it is for there).
    public func help(_ text: String) -> SettingRow {
        SettingRow(key, text, placeholder: placeholder, flag: arity == .flag, range: range)
    }

    /// The same setting with another range.
    public func ranged(_ r: SettingRange<Value>) -> SettingRow {
        SettingRow(key, help, placeholder: placeholder, flag: arity == .flag, range: r)
    }

    /// Why `value` is refused, or nil.
    func problem(_ value: Value) -> String? {
        guard let range, !range.contains(value) else { return nil }
        return "must be \(range.text), got \(show(value))"
    }

    func show(_ value: Value) -> String {
        let words = value.words
        return words.isEmpty ? "nothing" : words.joined(separator: " ")
    }
}

/// A setting placed in `Section`: reads and writes its value there.
public struct Setting<Section>: @unchecked Sendable {
    public let key: String
    public let help: String
    public let placeholder: String
    public let arity: SettingArity
    /// What the setting accepts, after "must be", as the help lists it; nil when any value of its
    /// type is valid (or the range goes without saying).
    public let range: String?
    /// For whole numbers (or lists of them): the smallest and largest valid value.
    public let bounds: ClosedRange<Int>?
    /// What a value of the setting's type looks like: "a whole number", "a number", ...
    public let kind: String
    /// The value as JSON.
    public let json: (Section) -> JSONValue
    /// The value as command-line words (a flag: "true" or "false").
    public let words: (Section) -> [String]
    /// Sets the value from command-line words; returns why they were refused.
    let setWords: (inout Section, [String]) -> String?
    /// Sets the value from JSON; returns why it was refused.
    let setJSON: (inout Section, JSONValue) -> String?
    /// Why the value a section holds is out of range, or nil.
    let problem: (Section) -> String?

    public init<Value: SettingValue>(_ row: SettingRow<Value>, _ path: WritableKeyPath<Section, Value>) {
        key = row.key; help = row.help; placeholder = row.placeholder; arity = row.arity
        range = row.range.flatMap { $0.inHelp ? $0.text : nil }
        bounds = row.range?.bounds
        kind = Value.kind
        json = { $0[keyPath: path].json }
        words = { $0[keyPath: path].words }
        let expected =
            "must be \(row.arity == .flag ? "true or false" : Value.kind)\(row.range.map { " (\($0.text))" } ?? "")"
        setWords = { section, words in
            guard let v = Value(words: words) else { return "\(expected), got '\(words.joined(separator: " "))'" }
            if let p = row.problem(v) { return p }
            section[keyPath: path] = v
            return nil
        }
        setJSON = { section, value in
            guard let v = Value(json: value) else { return "\(expected), got \(value.text)" }
            if let p = row.problem(v) { return p }
            section[keyPath: path] = v
            return nil
        }
        problem = { row.problem($0[keyPath: path]) }
    }

    init(
        key: String, help: String, placeholder: String, arity: SettingArity, range: String?, bounds: ClosedRange<Int>?,
        kind: String, json: @escaping (Section) -> JSONValue,
        words: @escaping (Section) -> [String], setWords: @escaping (inout Section, [String]) -> String?,
        setJSON: @escaping (inout Section, JSONValue) -> String?, problem: @escaping (Section) -> String?
    ) {
        self.key = key; self.help = help; self.placeholder = placeholder; self.arity = arity; self.range = range;
        self.bounds = bounds; self.kind = kind
        self.json = json; self.words = words; self.setWords = setWords; self.setJSON = setJSON; self.problem = problem
    }

    /// A setting declared in place.
    public init<Value: SettingValue>(
        _ key: String, _ help: String, _ path: WritableKeyPath<Section, Value>, placeholder: String? = nil,
        flag: Bool = false,
        range: SettingRange<Value>? = nil
    ) {
        self.init(SettingRow(key, help, placeholder: placeholder, flag: flag, range: range), path)
    }
}
