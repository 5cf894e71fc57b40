// `rivers export`: a trained run's EMA weights, normalizer and settings as one weights-only
// safetensors file, for use outside rivers (docs/python.md).
import Foundation
import Rivers

/// What export reads and writes: given on the command line only.
struct ExportInputs: SettingGroup {
    var modelDir = ""
    var out = ""
    var checkpoint = "best"

    static let name = "command line"
    static let settings: [Setting<ExportInputs>] = [
        Setting("model_dir", "the run directory of rivers train", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting(
            "out", "the file to write (FILE.safetensors; never overwritten)", \.out, placeholder: "FILE",
            range: .nonEmpty),
        Setting(SharedSettings.checkpoint, \.checkpoint),
    ]
}

let exportCommand = Command(
    name: "export",
    abstract: "Write a run's EMA weights as one weights-only safetensors file.",
    summary: """
        Writes the EMA weights of a trained run (the ones that generate), the normalizer (the training images'
        RGB mean and variance) and the run's settings into one safetensors file: about a quarter of a checkpoint,
        which also holds the current weights and the optimizer's moments. Tensors are named as the network's
        parameters (stem.weight, down.0.1.conv2.weight, ...) in Keras' layouts (kernels [kh, kw, in, out]);
        metadata: format rivers-export-1, config (the train section of the run's config.json), label, epoch,
        step. An existing file is never replaced. docs/python.md loads an export into PyTorch.
        """,
    options: ExportInputs.options(required: ["model_dir", "out"])
        + commonOptions(["dry_run"], dryRun: "print what would be exported; write nothing; fails as the run would"),
    run: runExport
)

func runExport(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(ExportInputs())
    let model = try TrainedModel(run: inputs.modelDir, checkpoint: inputs.checkpoint)
    try Export.checkNew(inputs.out)
    let source = (model.checkpointPath as NSString).lastPathComponent
    let checkpointBytes = (try? FileManager.default.attributesOfItem(atPath: model.checkpointPath)[.size] as? Int) ?? 0
    print(
        "model: \(model.directory.path) (label \(model.record.label), \(model.height)x\(model.width), \(source) after epoch \(model.epoch), step \(model.step))"
    )
    if options.dryRun {
        print(
            "dry run: would write \(model.net.layout.params.count + 2) tensors (the EMA weights and the normalizer) to \(inputs.out); nothing was written."
        )
        return 0
    }
    let bytes = try Export.write(model, checkpoint: inputs.checkpoint, to: inputs.out)
    print(
        "exported \(model.net.layout.params.count) EMA weight tensors and the normalizer to \(inputs.out): \(grouped(bytes)) bytes (\(source): \(grouped(checkpointBytes)) bytes)"
    )
    return 0
}
