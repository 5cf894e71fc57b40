// Typed errors: every failure names the file, key or option and the reason in one line. The
// command line alone turns them into exit statuses.
import Foundation

public enum RiversError: Error, CustomStringConvertible, Equatable {
    /// A file that cannot be read, decoded or written.
    case file(path: String, reason: String)
    /// A file that already exists where the tool would write; nothing is overwritten.
    case exists(path: String)
    /// A setting out of its range or of the wrong type: given as a flag (`file` nil), or read
    /// from a configuration file or a run's config.json (`file` names it).
    case setting(section: String, key: String, reason: String, file: String?)
    /// Settings or inputs that each look right but cannot run together (two runs for one label,
    /// a batch that does not fit in memory, an output inside the input).
    case usage(String)
    /// Training produced a non-finite loss.
    case diverged(String)

    public var description: String {
        switch self {
        case .file(let path, let reason): return "\(path): \(reason)"
        case .exists(let path): return "\(path): already exists, not overwritten"
        case .setting(let section, let key, let reason, let file):
            // A configuration file's own shape (not one setting's) has no section or key.
            let name = [section, key].filter { !$0.isEmpty }.joined(separator: ".")
            return file.map { "\($0): \(name.isEmpty ? "" : name + " ")\(reason)" } ?? "--\(key) \(reason)"
        case .usage(let message): return message
        case .diverged(let message): return message
        }
    }

    /// The same error read from `file`: a setting then names the file and its section.
    public func from(file: String) -> RiversError {
        if case .setting(let section, let key, let reason, nil) = self {
            return .setting(section: section, key: key, reason: reason, file: file)
        }
        return self
    }
}
