// The command-line parser: options in the original's spelling (--in_dir) or dashed
// (--in-dir), each made from a setting's row, defaults and ranges in the help, and one-line
// errors that suggest the closest name.
import Foundation
import Rivers

/// One option of a command, made from a setting's row.
public struct Option: Sendable {
    public let name: String
    public let help: String
    public let placeholder: String
    public let arity: SettingArity
    /// The default as the help shows it; nil for a flag or a setting without one.
    public let defaultValue: String?
    /// The valid values, after "must be".
    public let range: String?
    public let required: Bool

    /// The option of `setting`, its default shown from `defaults`.
    public init<S>(_ setting: Setting<S>, defaults: S, required: Bool = false) {
        name = setting.key; help = setting.help; placeholder = setting.placeholder; arity = setting.arity;
        range = setting.range
        self.required = required
        let words = setting.words(defaults)
        defaultValue = setting.arity == .flag || required || words.isEmpty ? nil : words.joined(separator: " ")
    }

    init(name: String, help: String) {
        self.name = name; self.help = help; placeholder = ""; arity = .flag; defaultValue = nil; range = nil;
        required = false
    }
}

extension SettingGroup {
    /// The options of this group's settings (all, or those named), defaults from `defaults`.
    public static func options(_ keys: [String]? = nil, defaults: Self = Self(), required: Set<String> = []) -> [Option]
    {
        let chosen = keys.map { keys in keys.map { k in settings.first { $0.key == k }! } } ?? settings
        return chosen.map { Option($0, defaults: defaults, required: required.contains($0.key)) }
    }
}

/// A command line that cannot be understood; the CLI prints it and exits with status 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    /// Whether the message should end by pointing at the command's --help (not when it already
    /// says what to run instead).
    public let pointsToHelp: Bool
    public init(description: String, pointsToHelp: Bool = true) {
        self.description = description; self.pointsToHelp = pointsToHelp
    }
}

/// The original tool's `--runtime` values and the rivers command that does the same.
public let originalRuntimes: [(runtime: String, command: String)] = [
    ("training", "train"), ("inference", "infer"), ("inpainting", "inpaint"),
]

/// The error for the original's `--runtime` (`value` as given, if any): rivers has a command for
/// each runtime instead.
public func runtimeError(_ value: String?) -> UsageError {
    let said = "--runtime is the original's; rivers has subcommands: "
    if let value, let match = originalRuntimes.first(where: { $0.runtime == value.lowercased() }) {
        return UsageError(
            description: said + "--runtime \(match.runtime) is 'rivers \(match.command)'", pointsToHelp: false)
    }
    let all = originalRuntimes.map { "--runtime \($0.runtime) is 'rivers \($0.command)'" }
    return UsageError(description: said + all.joined(separator: ", "), pointsToHelp: false)
}

/// The value given to `--runtime` in `args`, nil when there is none; whether it is there at all.
func runtimeValue(in args: [String]) -> (found: Bool, value: String?) {
    for (i, token) in args.enumerated() {
        if token.hasPrefix("--runtime=") { return (true, String(token.dropFirst("--runtime=".count))) }
        if token == "--runtime" {
            let next = i + 1 < args.count && !args[i + 1].hasPrefix("-") ? args[i + 1] : nil
            return (true, next)
        }
    }
    return (false, nil)
}

public struct Command {
    public let name: String
    /// One line for the list of commands.
    public let abstract: String
    /// What the command does, for its help.
    public let summary: String
    public let options: [Option]
    /// Whether the command splits its work over the ranks of an `mpirun` job.
    public let rankAware: Bool
    public let run: (ParsedArguments) throws -> Int32

    public init(
        name: String, abstract: String, summary: String, options: [Option], rankAware: Bool = false,
        run: @escaping (ParsedArguments) throws -> Int32
    ) {
        self.name = name; self.abstract = abstract; self.summary = summary; self.options = options;
        self.rankAware = rankAware; self.run = run
    }

    /// Parses `args` (after the command name). Throws UsageError for anything unknown.
    /// `--help` or `-h` anywhere wins over everything else on the line, as in argparse.
    public func parse(_ args: [String]) throws -> ParsedArguments {
        if args.contains(where: { $0 == "--help" || $0 == "-h" }) { return ParsedArguments(values: ["help": []]) }
        var values: [String: [String]] = [:]
        var i = 0
        while i < args.count {
            let token = args[i]
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
                if name == "runtime" { throw runtimeError(runtimeValue(in: Array(args[i...])).value) }
                let hint =
                    closest(name, among: options.map(\.name) + ["help"]).map { " (did you mean '--\($0)'?)" } ?? ""
                throw UsageError(description: "unknown option '\(token)' for 'rivers \(self.name)'\(hint)")
            }
            i += 1
            switch option.arity {
            case .flag:
                values[name] = inline.map { [$0] } ?? []
            case .one:
                if let v = inline { values[name] = [v]; continue }
                guard i < args.count, !isOptionName(args[i]) else {
                    throw UsageError(description: "--\(name) needs a value")
                }
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
        return ParsedArguments(values: values)
    }

    /// A token that starts an option (a negative number such as -1 is a value).
    private func isOptionName(_ token: String) -> Bool { token.hasPrefix("--") && token.count > 2 }
}

/// The words given for each option, by name.
public struct ParsedArguments {
    public let values: [String: [String]]

    public var wantsHelp: Bool { values["help"] != nil }
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// Sets every setting of `group` given on the command line; a bad value names its option.
    public func apply<S: SettingGroup>(to group: inout S) throws {
        for s in S.settings where has(s.key) { try group.set(s.key, words: values[s.key]!) }
    }

    /// `base` with the given settings applied, checked as a whole.
    public func resolve<S: SettingGroup>(_ base: S = S()) throws -> S {
        var group = base
        try apply(to: &group)
        try group.validate()
        return group
    }

    /// The keys of `S` given on the command line.
    public func given<S: SettingGroup>(in _: S.Type) -> [String] { S.settings.map(\.key).filter(has) }
}
