// What `rivers train --load_and_train` will do with a run: the rules of a resume as a value.
import Foundation

/// A resumed run: its directory, its record with the allowed changes applied, what the user
/// should know, and whether anything is left to train.
public struct ResumePlan: Sendable {
    public var directory: RunDirectory
    public var record: RunRecord
    /// Things that make the resumed losses differ from an uninterrupted run's.
    public var notes: [String]
    /// Why nothing is left to train, when the run is complete.
    public var complete: String?
    /// Final images the run has not made yet (a resume makes them after training).
    public var finalImagesMissing = 0

    /// Settings that a resumed run may change: the epoch total and what is generated.
    public static let resumableSettings: Set<String> = [
        "num_epochs", "early_stopping", "images_to_generate", "sampler", "spacing", "generate_diffusion_steps", "eta",
        "generate_on_epoch",
    ]

    /// The plan for resuming the run at `path` with the training settings `given` (key ->
    /// command-line words), a training-image folder `inDir` and a `label` if given, on `threads`
    /// threads. A setting that shapes what was trained cannot change; the error names it and
    /// the run's value.
    public init(run path: String, given: [String: [String]], inDir: String?, label: Int?, threads: Int) throws {
        directory = RunDirectory(path)
        record = try directory.record()
        var changed = record.train
        for key in given.keys.sorted() { try changed.set(key, words: given[key]!) }
        if let name = changed.differences(from: record.train).first(where: {
            !ResumePlan.resumableSettings.contains($0)
        }) {
            throw RiversError.usage(
                "--\(name) cannot change when resuming (the run has \(record.train.shown(name) ?? "")); only \(ResumePlan.resumableSettings.sorted().map { "--" + $0 }.joined(separator: ", ")) can"
            )
        }
        if let label, label != record.label {
            throw RiversError.usage("--label \(label) differs from the run's label \(record.label)")
        }
        try changed.validate()
        record.train = changed
        notes = []
        if let inDir, FileOps.canonicalPath(inDir) != record.inDir {
            notes.append(
                "training images now come from \(inDir) (the run started on \(record.inDir)); losses will differ from an uninterrupted run"
            )
            record.inDir = FileOps.canonicalPath(inDir)
        }
        // The run's folders must not lead into its training images (the images it generates would
        // be trained on).
        try FileOps.checkOutside(
            directory.path, "the run", parts: [directory.generatedDir, directory.samplesDir], input: record.inDir,
            "its training images")
        if let recorded = record.threads, recorded != threads {
            notes.append(
                "the run used \(counted(recorded, "thread")) and this one \(threads): losses stay close but not bit-identical to an uninterrupted run (use --threads \(recorded))"
            )
        }
        let saved = try TrainingRun.savedProgress(directory)
        let made = try directory.finalImages(epoch: saved.epoch).made
        finalImagesMissing = max(record.train.imagesToGenerate - made, 0)
        if saved.epoch >= record.train.numEpochs || (saved.stoppedEarly && record.train.earlyStopping),
            finalImagesMissing == 0
        {
            complete =
                saved.stoppedEarly && saved.epoch < record.train.numEpochs
                ? "stopped early after epoch \(saved.epoch) (pass --early_stopping false to train on)"
                : "has trained \(saved.epoch) of \(counted(record.train.numEpochs, "epoch")) (pass a larger --num_epochs to train on)"
        }
    }
}
