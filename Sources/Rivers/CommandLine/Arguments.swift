// A small command-line parser: options in the original's spelling (--in_dir) or dashed
// (--in-dir), defaults in the help, and one-line errors that suggest the closest name.
import Foundation

public struct Option {
    public enum Arity { case flag, one, many }
    public let name: String
    public let help: String
    public var value: String
    public var defaultValue: String?
    public var arity: Arity
    public var required: Bool

    public init(name: String, help: String, value: String = "VALUE", defaultValue: String? = nil, arity: Arity = .one, required: Bool = false) {
        self.name = name; self.help = help; self.value = value; self.defaultValue = defaultValue; self.arity = arity; self.required = required
    }
}

/// A command line that cannot be understood; the CLI prints it and exits with status 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

public struct Command {
    public let name: String
    public let summary: String
    public let options: [Option]
    public let run: (ParsedArguments) throws -> Int32

    public init(name: String, summary: String, options: [Option], run: @escaping (ParsedArguments) throws -> Int32) {
        self.name = name; self.summary = summary; self.options = options; self.run = run
    }

    public var usage: String {
        var lines = ["usage: rivers \(name) [options]", "", summary, "", "options:"]
        for o in options + [Option(name: "help", help: "show this help", arity: .flag)] {
            var left = "  --\(o.name)"
            switch o.arity {
            case .flag: break
            case .one: left += " \(o.value)"
            case .many: left += " \(o.value)..."
            }
            var help = o.help
            if o.required { help += " (required)" } else if let d = o.defaultValue { help += " (default: \(d))" }
            lines.append(left.padding(toLength: max(left.count + 2, 28), withPad: " ", startingAt: 0) + help)
        }
        lines.append("")
        lines.append("Options may also be written with dashes (--in-dir) or as --name=value.")
        return lines.joined(separator: "\n")
    }

    /// Parses `args` (after the command name). Throws UsageError for anything unknown.
    public func parse(_ args: [String]) throws -> ParsedArguments {
        var values: [String: [String]] = [:]
        var i = 0
        while i < args.count {
            let token = args[i]
            if token == "-h" { values["help"] = []; i += 1; continue }
            guard token.hasPrefix("--"), token.count > 2 else {
                throw UsageError(description: "unexpected argument '\(token)' (options start with --)")
            }
            var name = String(token.dropFirst(2))
            var inline: String? = nil
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            name = name.replacingOccurrences(of: "-", with: "_")
            if name == "help" { values["help"] = []; i += 1; continue }
            guard let option = options.first(where: { $0.name == name }) else {
                let hint = closest(name, among: options.map(\.name) + ["help"]).map { " (did you mean '--\($0)'?)" } ?? ""
                throw UsageError(description: "unknown option '\(token)' for 'rivers \(self.name)'\(hint)")
            }
            i += 1
            switch option.arity {
            case .flag:
                if let v = inline {
                    guard let b = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][v.lowercased()] else {
                        throw UsageError(description: "--\(name) takes no value or true/false, got '\(v)'")
                    }
                    values[name] = b ? [] : nil
                } else {
                    values[name] = []
                }
            case .one:
                if let v = inline { values[name] = [v]; continue }
                guard i < args.count, !isOptionName(args[i]) else { throw UsageError(description: "--\(name) needs a value") }
                values[name] = [args[i]]
                i += 1
            case .many:
                var list = inline.map { [$0] } ?? []
                while i < args.count, !isOptionName(args[i]) { list.append(args[i]); i += 1 }
                guard !list.isEmpty else { throw UsageError(description: "--\(name) needs at least one value") }
                values[name] = list
            }
        }
        if values["help"] == nil {
            for o in options where o.required && values[o.name] == nil {
                throw UsageError(description: "missing required option --\(o.name)")
            }
        }
        return ParsedArguments(values: values, options: options)
    }

    /// A token that starts an option (a negative number such as -1 is a value).
    private func isOptionName(_ token: String) -> Bool { token.hasPrefix("--") && token.count > 2 }
}

public struct ParsedArguments {
    public let values: [String: [String]]
    public let options: [Option]

    public var wantsHelp: Bool { values["help"] != nil }
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// The given value, else the option's default.
    public func string(_ name: String) -> String? {
        values[name]?.first ?? options.first(where: { $0.name == name })?.defaultValue
    }

    public func int(_ name: String) throws -> Int {
        guard let s = string(name), let v = Int(s) else { throw UsageError(description: "--\(name) must be a whole number, got '\(string(name) ?? "")'") }
        return v
    }

    /// Every value of a many-valued option (else its default, split at spaces), as whole numbers.
    public func ints(_ name: String) throws -> [Int] {
        let list = values[name] ?? (options.first(where: { $0.name == name })?.defaultValue?.split(separator: " ").map(String.init) ?? [])
        return try list.map { s in
            guard let v = Int(s) else { throw UsageError(description: "--\(name) takes whole numbers, got '\(s)'") }
            return v
        }
    }

    public func double(_ name: String) throws -> Double {
        guard let s = string(name), let v = Double(s), v.isFinite else { throw UsageError(description: "--\(name) must be a number, got '\(string(name) ?? "")'") }
        return v
    }
}

/// The candidate with the smallest edit distance, if it is close enough to be a likely typo.
public func closest(_ word: String, among candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
    let scored = candidates.map { ($0, distance(Array(word), Array($0))) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored, d <= max(2, best.count / 3) else { return nil }
    return best
}
