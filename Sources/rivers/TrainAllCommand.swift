// `rivers train-all`: one model per L* label folder, in label order, with the same settings.
import Foundation
import Rivers

let trainAllCommand = Command(
    name: "train-all",
    summary: """
    Trains one model per label folder (L1 to L6) of --in_dir (the diffusion_data/ that balance writes), in
    label order, with the same settings; a label that fails is reported and the others still train.
    Ends with a summary table; the exit status is 1 when a label failed, 130 after Ctrl-C.
    """,
    options: [Option(name: "in_dir", help: "folder of label folders L1, L2, ...", value: "DIR", required: true)] + sharedTrainOptions,
    run: runTrainAll
)

/// The L<n> folders of `dir`, by label.
func labelFolders(_ dir: String) throws -> [(label: Int, path: String)] {
    guard FileOps.isDirectory(dir) else {
        throw RiversError.file(path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
    }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    let folders = names.compactMap { name -> (Int, String)? in
        let path = (dir as NSString).appendingPathComponent(name)
        guard name.hasPrefix("L"), FileOps.isDirectory(path), let label = TrainingPlan.label(fromFolder: name) else { return nil }
        return (label, path)
    }.sorted { $0.0 < $1.0 }
    if folders.isEmpty { throw RiversError.file(path: dir, reason: "has no label folders L1 .. L6 (rivers balance writes them under diffusion_data/)") }
    return folders
}

func runTrainAll(_ args: ParsedArguments) throws -> Int32 {
    try prepareTraining(args)
    let config = try resolveTrainConfig(args)
    try checkOutputOutside(config, inDir: args.string("in_dir")!)
    let folders = try labelFolders(args.string("in_dir")!)
    print("labels to train: \(folders.map { "L\($0.label)" }.joined(separator: " "))")
    var results: [LabelResult] = []
    for (label, path) in folders {
        if Interrupt.requested { break }
        print("== label \(label): \(path)")
        let started = Date()
        do {
            results.append(try trainLabel(config, inDir: path, label: label, resume: nil, args: args))
        } catch where Job.world.size > 1 {
            // Under mpirun a failure may be one rank's alone: the others would wait for it in the
            // next label, so the whole job stops here with the error.
            throw error
        } catch {
            let message = (error as? UsageError)?.description ?? (error as? RiversError)?.description ?? "\(error)"
            FileHandle.standardError.write("rivers: error: label \(label): \(message)\n".data(using: .utf8)!)
            results.append(LabelResult(label: label, seconds: Date().timeIntervalSince(started), outcome: "failed: \(message)", status: 1))
        }
        if results.last?.status == 130 { break }
    }
    if args.has("dry_run") { return results.contains { $0.status != 0 } ? 1 : 0 }
    var rows = [["label", "run directory", "epochs", "best n_loss", "time", "result"]]
    for r in results {
        rows.append(["L\(r.label)", r.run ?? "-", String(r.epochs), r.bestNLoss.map { String(format: "%.5f", $0) } ?? "-",
                     ProgressBar.clock(r.seconds), r.outcome])
    }
    let untrained = folders.map(\.label).filter { l in !results.contains { $0.label == l } }
    for l in untrained { rows.append(["L\(l)", "-", "0", "-", "-", "not started"]) }
    print(textTable(rows))
    if results.contains(where: { $0.status == 130 }) {
        if !untrained.isEmpty { print("labels not started: \(untrained.map { "L\($0)" }.joined(separator: " ")); train them with rivers train --in_dir <their folder>") }
        return 130
    }
    return results.contains { $0.status != 0 } ? 1 : 0
}

/// Rows of cells as aligned columns.
func textTable(_ rows: [[String]]) -> String {
    let widths = (0..<(rows.first?.count ?? 0)).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
