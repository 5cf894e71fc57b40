// What every command shares: the options only a command line gives (threads, progress, dry run,
// a configuration file), resolving a command's section, warnings and notices on standard error.
import Foundation
import Rivers

/// Options of this invocation, not of a configuration: rows like a section's.
struct CommonOptions: SettingGroup {
    var threads = Parallel.threadCount
    var quiet = false
    var dryRun = false
    var config: String? = nil

    static let name = "command line"
    static let settings: [Setting<CommonOptions>] = [
        Setting("threads", "worker threads", \.threads, range: .within(1...256)),
        Setting("quiet", "no progress bars", \.quiet, flag: true),
        Setting(
            "dry_run", "print the plan and write nothing; fails as the run would when the run would be refused",
            \.dryRun,
            flag: true),
        Setting(
            "config", "a JSON file of settings laid over the built-in defaults (sections as config.default.json)",
            \.config,
            placeholder: "FILE", range: .nonEmpty),
    ]
}

extension Option {
    /// The same option with the help a command gives it.
    func help(_ text: String) -> Option { Option(copying: self, help: text) }

    init(copying o: Option, placeholder: String? = nil, help: String, defaultValue: String?? = .none) {
        name = o.name; self.help = help; self.placeholder = placeholder ?? o.placeholder; arity = o.arity;
        self.defaultValue = defaultValue ?? o.defaultValue; range = o.range; required = o.required
    }
}

/// The common options named, `dry_run` with the command's own help.
func commonOptions(_ keys: [String], dryRun: String? = nil) -> [Option] {
    CommonOptions.options(keys).map { o in
        switch o.name {
        case "dry_run" where dryRun != nil: return o.help(dryRun!)
        // The default depends on the machine, so help and the docs name it rather than print a number.
        case "threads":
            return Option(
                copying: o, help: o.help + ", by default the cores this process may use", defaultValue: .some(nil))
        default: return o
        }
    }
}

/// Reads the common options and sets the process-wide thread count.
func common(_ args: ParsedArguments) throws -> CommonOptions {
    let options = try args.resolve(CommonOptions())
    Parallel.threadCount = options.threads
    return options
}

/// A command's section: the built-in defaults, then the section of --config, then the flags;
/// checked as a whole. Errors name the option, or the file and the key.
func section<S: ConfigSection>(_ args: ParsedArguments, _ pick: (RiversConfig) -> S) throws -> S {
    let base = try args.values["config"].map { pick(try RiversConfig.load($0[0])) } ?? S()
    return try args.resolve(base)
}

func warn(_ message: String) {
    FileHandle.standardError.write("warning: \(message)\n".data(using: .utf8)!)
}

func note(_ message: String) {
    FileHandle.standardError.write("note: \(message)\n".data(using: .utf8)!)
}
