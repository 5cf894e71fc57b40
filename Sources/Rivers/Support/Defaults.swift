// Built-in defaults: the same values as config.default.json (a test keeps the two equal),
// compiled in so the tool works from any folder.
import Foundation

public enum Defaults {
    /// `config.default.json` as shipped, section by section: option name -> value.
    public static let balance: [String: Double] = [
        "labels": 3, "theta": 5, "fact": 1.3, "multiplier": 6, "seed": 42, "jpeg_quality": 95,
    ]
    public static let balanceOutDir = "."

    /// Parses a configuration file's text into sections of option -> JSON value.
    public static func parseConfig(_ data: Data, path: String) throws -> [String: [String: Any]] {
        guard let object = try? JSONSerialization.jsonObject(with: data), let sections = object as? [String: [String: Any]] else {
            throw RiversError.file(path: path, reason: "not a JSON object of sections")
        }
        return sections
    }
}
