// Typed errors: every failure names the file (or option) and the reason in one line.
import Foundation

public enum RiversError: Error, CustomStringConvertible, Equatable {
    /// A file that cannot be read, decoded or written.
    case file(path: String, reason: String)
    /// A bad value given on the command line or in a configuration.
    case invalidArgument(String)
    /// A file that already exists where the tool would write; nothing is overwritten.
    case exists(path: String)

    public var description: String {
        switch self {
        case .file(let path, let reason): return "\(path): \(reason)"
        case .invalidArgument(let message): return message
        case .exists(let path): return "\(path): already exists, not overwritten"
        }
    }
}
