// The value types a setting can hold, each read from command-line words and from JSON and
// shown back in both forms.
import Foundation

/// A JSON value as a configuration file holds it; integers are kept exact.
public enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), int(Int), unsigned(UInt64), double(Double), string(String), array([JSONValue]), object(
        [String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int.self) {
            self = .int(v)
        } else if let v = try? c.decode(UInt64.self) {
            self = .unsigned(v)
        } else if let v = try? c.decode(Double.self) {
            self = .double(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([JSONValue].self) {
            self = .array(v)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .unsigned(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    /// The value as it would be written in a file, for error messages.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .unsigned(let v): return String(v)
        case .double(let v): return formatNumber(v)
        case .string(let v): return "\"\(v)\""
        case .array(let v): return "[" + v.map(\.text).joined(separator: ", ") + "]"
        case .object: return "{...}"
        }
    }
}

/// How a setting is written on a command line: a flag alone, one value, or a list of values.
public enum SettingArity: Sendable { case flag, one, many }

/// A type a setting can hold.
public protocol SettingValue: Equatable, Sendable {
    /// What a value must look like, after "must be": "a whole number".
    static var kind: String { get }
    static var arity: SettingArity { get }
    init?(words: [String])
    init?(json: JSONValue)
    var json: JSONValue { get }
    /// The value as command-line words.
    var words: [String] { get }
}

extension Int: SettingValue {
    public static var kind: String { "a whole number" }
    public static var arity: SettingArity { .one }
    public init?(words: [String]) {
        guard words.count == 1, let v = Int(words[0]) else { return nil }
        self = v
    }
    public init?(json: JSONValue) {
        guard case .int(let v) = json else { return nil }
        self = v
    }
    public var json: JSONValue { .int(self) }
    public var words: [String] { [String(self)] }
}

extension UInt64: SettingValue {
    public static var kind: String { "a whole number from 0 to \(UInt64.max)" }
    public static var arity: SettingArity { .one }
    public init?(words: [String]) {
        guard words.count == 1, let v = UInt64(words[0]) else { return nil }
        self = v
    }
    public init?(json: JSONValue) {
        switch json {
        case .int(let v) where v >= 0: self = UInt64(v)
        case .unsigned(let v): self = v
        default: return nil
        }
    }
    public var json: JSONValue { self <= UInt64(Int.max) ? .int(Int(self)) : .unsigned(self) }
    public var words: [String] { [String(self)] }
}

extension Double: SettingValue {
    public static var kind: String { "a number" }
    public static var arity: SettingArity { .one }
    public init?(words: [String]) {
        // NaN and infinities parse; every range refuses them.
        // Decimal only: Swift also reads hexadecimal floats (0x1p-1), which no user means.
        guard words.count == 1, !words[0].lowercased().contains("x"), let v = Double(words[0]) else { return nil }
        self = v
    }
    public init?(json: JSONValue) {
        switch json {
        case .int(let v): self = Double(v)
        case .unsigned(let v): self = Double(v)
        case .double(let v): self = v
        default: return nil
        }
    }
    public var json: JSONValue { self == rounded() && abs(self) < 1e15 ? .int(Int(self)) : .double(self) }
    public var words: [String] { [formatNumber(self)] }
}

extension Bool: SettingValue {
    public static var kind: String { "true or false" }
    public static var arity: SettingArity { .one }
    /// No words: a flag given alone, which turns it on.
    public init?(words: [String]) {
        if words.isEmpty { self = true; return }
        guard words.count == 1,
            let v = ["true": true, "yes": true, "1": true, "false": false, "no": false, "0": false][
                words[0].lowercased()]
        else { return nil }
        self = v
    }
    public init?(json: JSONValue) {
        guard case .bool(let v) = json else { return nil }
        self = v
    }
    public var json: JSONValue { .bool(self) }
    public var words: [String] { [String(self)] }
}

extension String: SettingValue {
    public static var kind: String { "text" }
    public static var arity: SettingArity { .one }
    public init?(words: [String]) {
        guard words.count == 1 else { return nil }
        self = words[0]
    }
    public init?(json: JSONValue) {
        guard case .string(let v) = json else { return nil }
        self = v
    }
    public var json: JSONValue { .string(self) }
    public var words: [String] { [self] }
}

extension Array: SettingValue where Element: SettingValue {
    public static var kind: String { "a list of " + Element.kind.replacingOccurrences(of: "a ", with: "") + "s" }
    public static var arity: SettingArity { .many }
    public init?(words: [String]) {
        var values: [Element] = []
        for w in words {
            guard let v = Element(words: [w]) else { return nil }
            values.append(v)
        }
        self = values
    }
    public init?(json: JSONValue) {
        guard case .array(let items) = json else { return nil }
        var values: [Element] = []
        for item in items {
            guard let v = Element(json: item) else { return nil }
            values.append(v)
        }
        self = values
    }
    public var json: JSONValue { .array(map(\.json)) }
    public var words: [String] { flatMap(\.words) }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public static var kind: String { Wrapped.kind }
    public static var arity: SettingArity { Wrapped.arity }
    public init?(words: [String]) {
        guard let v = Wrapped(words: words) else { return nil }
        self = .some(v)
    }
    public init?(json: JSONValue) {
        if json == .null { self = .none; return }
        guard let v = Wrapped(json: json) else { return nil }
        self = .some(v)
    }
    public var json: JSONValue { map(\.json) ?? .null }
    public var words: [String] { map(\.words) ?? [] }
}
