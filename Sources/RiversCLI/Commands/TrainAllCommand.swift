// `rivers train-all`: one model per L* label folder, in label order, with the same settings.
import Foundation
import Rivers

let trainAllCommand = Command(
    name: "train-all",
    abstract: "Train one model per label folder L1 .. L6, in turn.",
    summary: """
        Trains one model per label folder (L1 to L6) of --in_dir (the diffusion_data/ that balance writes), in
        label order, with the same settings; a label that fails is reported and the others still train. Two
        folders of one label (L1 and L01) are refused before any work.
        Ends with a summary table; the exit status is 1 when a label failed, 130 after Ctrl-C (143 after SIGTERM).
        """,
    options: TrainInputs.options(["in_dir", "init_from"], required: ["in_dir"]).map {
        $0.name == "in_dir"
            ? $0.help("folder of label folders L1, L2, ...")
            : Option(
                copying: $0, placeholder: "DIR",
                help:
                    "a folder of runs, one per label (e.g. trained at a smaller --image_size): each label starts from the weights and EMA of the run trained on it, a fresh optimizer at step 0"
            )
    } + sharedTrainOptions,
    rankAware: true,
    run: runTrainAll
)

func runTrainAll(_ args: ParsedArguments) throws -> Int32 {
    let (options, inputs) = try prepareTraining(args)
    let inDir = inputs.inDir!
    let config = try section(args, \.train)
    try TrainingPlan.checkOutputOutside(config, inDir: inDir)
    let folders = try TrainingPlan.labelFolders(inDir)
    // Every label's starting run is found and checked before the first label trains.
    var sources: [Int: (path: String, state: Checkpoint.State)] = [:]
    if let dir = inputs.initFrom {
        for (label, run) in try TrainingPlan.runsByLabel(dir, labels: folders.map(\.label)).sorted(by: {
            $0.key < $1.key
        }) {
            sources[label] = try Checkpoint.initSource(run, network: config.network)
        }
    }
    print("labels to train: \(folders.map { "L\($0.label)" }.joined(separator: " "))")
    var results: [LabelResult] = []
    for (label, path) in folders {
        if Interrupt.requested { break }
        print("== label \(label): \(path)")
        let started = Date()
        do {
            results.append(
                try trainLabel(
                    config, inDir: path, label: label, resume: nil, initFrom: sources[label], options: options))
        } catch  where Job.world.size > 1 {
            // Under mpirun a failure may be one rank's alone: the others would wait for it in the
            // next label, so the whole job stops here with the error.
            throw error
        } catch {
            let message = "\(error)"
            FileHandle.standardError.write("rivers: error: label \(label): \(message)\n".data(using: .utf8)!)
            results.append(
                LabelResult(
                    label: label, seconds: Date().timeIntervalSince(started), outcome: "failed: \(message)", status: 1))
        }
        if let last = results.last, Interrupt.isInterruption(last.status) { break }
    }
    if options.dryRun { return results.contains { $0.status != 0 } ? 1 : 0 }
    // Each row names the folder it trained (the labels' folders are distinct: labelFolders refuses two of one).
    let folderOf = Dictionary(uniqueKeysWithValues: folders.map { ($0.label, $0.path) })
    var rows = [["label", "folder", "run directory", "epochs", "best n_loss", "time", "result"]]
    for r in results {
        rows.append([
            "L\(r.label)", folderOf[r.label] ?? "-", r.run ?? "-", String(r.epochs),
            r.bestNLoss.map { String(format: "%.5f", $0) } ?? "-",
            ProgressBar.clock(r.seconds), r.outcome,
        ])
    }
    let untrained = folders.map(\.label).filter { l in !results.contains { $0.label == l } }
    for l in untrained { rows.append(["L\(l)", folderOf[l] ?? "-", "-", "0", "-", "-", "not started"]) }
    print(textTable(rows))
    if let stop = results.first(where: { Interrupt.isInterruption($0.status) }) {
        if !untrained.isEmpty {
            print(
                "labels not started: \(untrained.map { "L\($0)" }.joined(separator: " ")); train them with rivers train --in_dir <their folder>"
            )
        }
        return stop.status
    }
    return results.contains { $0.status != 0 } ? 1 : 0
}
