// The settings that shaped an output folder, recorded in it, so that a rerun with other
// settings is refused instead of mixing two plans in one folder.
import Foundation

public enum PlanRecord {
    /// Refuses when `path` records settings other than `mine`, naming the recorded values that
    /// differ (`differences(recorded, mine)`, as command-line words); with `write`, records
    /// `mine` when nothing is recorded yet. `output` names the folder in the message.
    public static func check<T: Codable & Equatable>(
        _ mine: T, at path: String, output: String, write: Bool, differences: (T, T) -> [String]
    ) throws {
        if let data = FileManager.default.contents(atPath: path) {
            guard let theirs = try? JSONDecoder().decode(T.self, from: data) else {
                throw RiversError.file(
                    path: path, reason: "is not a record of rivers; remove it if the folder holds nothing of value")
            }
            guard theirs == mine else {
                let changed = differences(theirs, mine)
                throw RiversError.usage(
                    "\(output) was made with \(changed.isEmpty ? "other settings" : changed.joined(separator: " ")); run again with those values to complete it, or choose another --out_dir"
                )
            }
            return
        }
        guard write else { return }
        try FileOps.makeDirectory(FileOps.parent(path))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try FileOps.replaceAtomically(try encoder.encode(mine), at: path)
    }
}
