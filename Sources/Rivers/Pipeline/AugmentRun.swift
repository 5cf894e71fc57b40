// `rivers augment`, step two: copy the originals, generate what the plan lists and is not yet
// there, one label's model at a time, batch by batch, never overwriting.
import Foundation

public struct AugmentReport: Codable, Sendable {
    public var copied = 0, generated = 0, present = 0
    public var failures: [SkippedFile] = []
    public var interrupted = false

    /// The reports of every rank of `comm` summed, on every rank (the same report with one process).
    public func combined(over comm: Communicator) throws -> AugmentReport {
        guard comm.size > 1 else { return self }
        var total = AugmentReport()
        for data in comm.allGather(try JSONEncoder().encode(self)) {
            let r = try JSONDecoder().decode(AugmentReport.self, from: data)
            total.copied += r.copied; total.generated += r.generated; total.present += r.present
            total.failures += r.failures; total.interrupted = total.interrupted || r.interrupted
        }
        return total
    }
}

/// What an augment run reports while it works.
public struct AugmentEvents {
    /// Images' worth of work done: 1 for an image found present or failed, and for every sampler
    /// step of a batch of b images taking s steps, b / s (so a bar moves, with its rate and ETA,
    /// at every step, as infer's does). The calls of one run add up to the images of its share.
    public var progress: (_ images: Double) -> Void = { _ in }
    /// Asked between sampler steps and batches: true stops the run after the images already
    /// written (the batch in progress is dropped within one step).
    public var shouldStop: () -> Bool = { false }
    /// A label's model was loaded.
    public var model: (_ label: Int, _ model: TrainedModel) -> Void = { _, _ in }
    public init() {}
}

public enum AugmentRun {
    /// The raw dataset's images: label folders 1 ... 6 that exist (any may be missing), each with
    /// its image files; other files are returned to be reported.
    public static func scan(inDir: String) throws -> (images: [Int: [String]], ignored: [SkippedFile]) {
        guard FileOps.isDirectory(inDir) else {
            throw RiversError.file(
                path: inDir,
                reason: FileManager.default.fileExists(atPath: inDir) ? "is not a folder" : "does not exist")
        }
        var images: [Int: [String]] = [:], ignored = try RawDataset.otherEntries(inDir)
        for label in 1...6 {
            let dir = (inDir as NSString).appendingPathComponent(String(label))
            // A missing label is fine (it gets generated images or none); one that is there but
            // not a usable folder (a broken link, a file) is named before any work.
            var st = stat()
            guard lstat(dir, &st) == 0 else { continue }
            if let problem = FileOps.folderProblem(dir) {
                throw RiversError.file(path: dir, reason: "label folder \(problem)")
            }
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
                throw RiversError.file(path: dir, reason: "cannot be read (permission denied?)")
            }
            for name in names.sorted() where !name.hasPrefix(".") {
                let path = (dir as NSString).appendingPathComponent(name)
                if FileOps.isDirectory(path) { continue }
                if ImageFile.isImageName(name) {
                    // An image that cannot be opened (a broken link, no permission) is skipped and
                    // said before any work, as training does, instead of failing halfway.
                    guard access(path, R_OK) == 0 else {
                        ignored.append(
                            SkippedFile(
                                path: path, reason: "cannot be read (\(String(cString: strerror(errno)))), skipped"))
                        continue
                    }
                    images[label, default: []].append(path)
                } else {
                    ignored.append(SkippedFile(path: path, reason: "not a .jpg, .jpeg or .png image, skipped"))
                }
            }
        }
        if images.isEmpty { throw RiversError.file(path: inDir, reason: "has no label folders 1 .. 6 with images") }
        return (images, ignored)
    }

    /// Refuses an output folder that contains the raw dataset, lies inside it, or has a label
    /// folder that leads into it.
    public static func checkOutside(outDir: String, inDir: String) throws {
        try FileOps.checkOutside(
            outDir, "--out_dir", parts: (1...6).map { (outDir as NSString).appendingPathComponent(String($0)) },
            input: inDir, "--in_dir", mutual: true)
    }

    /// What shaped an augmented folder: the plan's settings and the model of each label. A rerun
    /// with others would add items of another plan, and the categories would drift apart.
    public struct Record: Codable, Equatable, Sendable {
        public var seed: UInt64
        public var strengths: [Double], probs: [Double]
        public var steps: Int, eta: Double, checkpoint: String
        /// Label -> the run directory (as given, made absolute) that generates it.
        public var models: [String: String]

        public init(_ settings: AugmentConfig, models: [Int: String]) {
            seed = settings.seed; strengths = settings.strengths; probs = settings.probs
            steps = settings.generation.steps; eta = settings.generation.eta;
            checkpoint = settings.generation.checkpoint
            self.models = Dictionary(
                uniqueKeysWithValues: models.map { (String($0.key), FileOps.canonicalPath($0.value)) })
        }

        enum CodingKeys: String, CodingKey {
            case seed, strengths = "strength", probs, steps = "generate_diffusion_steps", eta, checkpoint, models
        }
    }

    static func recordPath(_ outDir: String) -> String { (outDir as NSString).appendingPathComponent(".augment.json") }

    /// Refuses to add to a folder augmented with another plan (naming the recorded values);
    /// with `write`, records this one when none is recorded.
    public static func checkRecord(_ settings: AugmentConfig, models: [Int: String], outDir: String, write: Bool) throws
    {
        try PlanRecord.check(Record(settings, models: models), at: recordPath(outDir), output: outDir, write: write) {
            theirs, mine in
            var d: [String] = []
            if theirs.seed != mine.seed { d.append("--seed \(theirs.seed)") }
            if theirs.strengths != mine.strengths {
                d.append("--strength " + theirs.strengths.map(formatNumber).joined(separator: " "))
            }
            if theirs.probs != mine.probs {
                d.append("--probs " + theirs.probs.map(formatNumber).joined(separator: " "))
            }
            if theirs.steps != mine.steps { d.append("--generate_diffusion_steps \(theirs.steps)") }
            if theirs.eta != mine.eta { d.append("--eta \(formatNumber(theirs.eta))") }
            if theirs.checkpoint != mine.checkpoint { d.append("--checkpoint \(theirs.checkpoint)") }
            for label in Set(theirs.models.keys).union(mine.models.keys).sorted()
            where theirs.models[label] != mine.models[label] {
                d.append("label \(label)'s model \(theirs.models[label] ?? "none")")
            }
            return d
        }
    }

    /// Loads every model the plan needs (checking its weights) before any file is written.
    public static func checkModels(_ plan: AugmentPlan, checkpoint: String) throws {
        for label in plan.labels where !label.items.isEmpty {
            guard let run = label.model else { continue }
            let model = try TrainedModel(run: run, checkpoint: checkpoint)
            guard model.record.label == label.label else {
                throw RiversError.file(
                    path: model.directory.configPath,
                    reason: "was trained on label \(model.record.label), not \(label.label)")
            }
        }
    }

    /// The label of each run (from its config.json): label -> run path. Two runs of one label,
    /// or a path that is not a run, are errors naming them.
    public static func models(_ runs: [String]) throws -> [Int: String] {
        var byLabel: [Int: String] = [:]
        for run in runs {
            let label = try RunDirectory(run).record().label
            if let other = byLabel[label] {
                throw RiversError.usage(
                    "--weight_paths has two runs trained on label \(label): \(other) and \(run); give one per label")
            }
            byLabel[label] = run
        }
        return byLabel
    }

    /// The most common size among the first image of each label (the classifier's image size).
    public static func outputSize(_ images: [Int: [String]]) -> (width: Int, height: Int)? {
        var sizes: [String: (Int, Int, Int)] = [:]
        for label in images.keys.sorted() {
            for path in images[label]!.prefix(3) {
                guard let image = try? ImageFile.read(path) else { continue }
                let key = "\(image.width)x\(image.height)"
                sizes[key] = (image.width, image.height, (sizes[key]?.2 ?? 0) + 1)
            }
        }
        return sizes.values.max { ($0.2, $0.0) < ($1.2, $1.0) }.map { ($0.0, $0.1) }
    }

    /// The items of a label that rank `comm.rank` makes: item k goes to rank k mod ranks.
    public static func share(_ items: [AugmentItem], _ comm: Communicator) -> [AugmentItem] {
        comm.share(of: items.count).map { items[$0] }
    }

    /// Executes `plan` into `outDir/<label>/`: originals copied unchanged (by rank 0), then each
    /// label's missing items (this rank's share of them) generated with its model and written at
    /// `outputSize`. `events.shouldStop` is polled between sampler steps; a rerun completes what
    /// is missing.
    public static func execute(
        _ plan: AugmentPlan, outDir: String, outputSize: (width: Int, height: Int), generation: GenerationSettings,
        date: String, comm: Communicator = SingleProcess(), events: AugmentEvents = AugmentEvents()
    ) throws -> AugmentReport {
        let shouldStop = events.shouldStop
        var report = AugmentReport()
        for label in plan.labels where comm.isRoot && (!label.originals.isEmpty || !label.items.isEmpty) {
            let dir = (outDir as NSString).appendingPathComponent(String(label.label))
            try FileOps.makeDirectory(dir)
            FileOps.removeStaleTemporaries(in: dir)
            for source in label.originals {
                do {
                    try FileOps.copyNew(
                        from: source,
                        to: (dir as NSString).appendingPathComponent((source as NSString).lastPathComponent))
                    report.copied += 1
                } catch RiversError.exists(_) {
                    report.present += 1
                }
            }
        }
        comm.barrier()  // the label folders exist
        for label in plan.labels where !label.items.isEmpty {
            if shouldStop() { report.interrupted = true; break }
            let dir = (outDir as NSString).appendingPathComponent(String(label.label))
            // The identities of the files already there, once: a rerun matches items by set lookup.
            // (The plan gives no item an original's identity.)
            let existing = Set(
                ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap(
                    GeneratedNames.identity(of:)))
            let mine = share(label.items, comm)
            let pending = mine.filter { !existing.contains($0.identity) }
            report.present += mine.count - pending.count
            if mine.count > pending.count { events.progress(Double(mine.count - pending.count)) }
            guard !pending.isEmpty, let run = label.model else { continue }
            let model = try TrainedModel(run: run, checkpoint: generation.checkpoint)
            guard model.record.label == label.label else {
                throw RiversError.file(
                    path: model.directory.configPath,
                    reason: "was trained on label \(model.record.label), not \(label.label)")
            }
            events.model(label.label, model)
            let available = ResourceUsage.availableBytes()
            let batch = min(
                try generation.batchSize
                    ?? InferencePlan.automaticBatch(model, count: pending.count, available: available), pending.count)
            let memory = try model.memory(batch: batch)
            guard memory <= available else {
                throw RiversError.usage(
                    "batches of \(batch) at \(model.height)x\(model.width) need \(mebibytes(memory)) and \(mebibytes(available)) is available; use a smaller --batch_size"
                )
            }
            // One predictor per batch size used, so that a group smaller than the batch is not
            // padded with images that are computed and thrown away.
            var predictors: [Int: NetworkPredictor] = [:]
            func predictor(_ n: Int) throws -> NetworkPredictor {
                if let p = predictors[n] { return p }
                let p = try model.predictor(batch: n)
                predictors[n] = p
                return p
            }
            let sampler = generation.sampler(model.record.train.schedule)
            let stream = "augment L\(label.label)"
            // Pure generations first, then variations by strength, each in batches.
            let groups = Dictionary(grouping: pending) { $0.isVariation ? $0.strength : 1 }
            for strength in groups.keys.sorted(by: >) {
                let group = groups[strength]!
                for start in stride(from: 0, to: group.count, by: batch) {
                    if shouldStop() { report.interrupted = true; return report }
                    let items = Array(group[start..<min(start + batch, group.count)])
                    let predictor = try predictor(items.count)
                    // Each step of the batch moves it by its images' share of their steps.
                    let steps = strength >= 1 ? sampler.steps : sampler.variation(from: strength).steps
                    var made: [(AugmentItem, Image)] = []
                    // Items of this batch that should have been made (an unreadable source is a
                    // failure, not a stop): fewer images back means a stop within the batch.
                    var expected = items.count
                    if strength >= 1 {
                        made = Array(
                            zip(
                                items,
                                try model.generating {
                                    try Generation.images(
                                        indices: items.map(\.index), predictor: predictor, normalizer: model.normalizer,
                                        sampler: sampler, seed: generation.seed, stream: stream,
                                        onStep: { _ in events.progress(Double(items.count) / Double(steps)) },
                                        shouldStop: shouldStop)
                                }))
                    } else {
                        var usable: [(AugmentItem, Image)] = []
                        for item in items {
                            do {
                                let image = try ImageFile.read(item.source!)
                                usable.append(
                                    (
                                        item,
                                        Geometry.resizeBilinear(
                                            Geometry.cropToAspectRatio(image, width: model.width, height: model.height),
                                            width: model.width, height: model.height)
                                    ))
                            } catch let e as RiversError {
                                if case .file(let path, let reason) = e {
                                    report.failures.append(SkippedFile(path: path, reason: reason))
                                }
                                events.progress(1)
                            }
                        }
                        let images = try model.generating {
                            try Generation.variations(
                                of: usable.map(\.1), indices: usable.map(\.0.index), strength: strength,
                                predictor: predictor, normalizer: model.normalizer, sampler: sampler,
                                seed: generation.seed, stream: stream,
                                onStep: { _ in events.progress(Double(usable.count) / Double(steps)) },
                                shouldStop: shouldStop)
                        }
                        made = Array(zip(usable.map(\.0), images))
                        expected = usable.count
                    }
                    for (item, image) in made {
                        let output =
                            image.width == outputSize.width && image.height == outputSize.height
                            ? image
                            : Geometry.resizeBilinear(image, width: outputSize.width, height: outputSize.height)
                        let path = (dir as NSString).appendingPathComponent(item.fileName(date: date))
                        do {
                            try ImageFile.write(output, to: path)
                            report.generated += 1
                        } catch RiversError.exists(_) {
                            report.present += 1
                        }
                    }
                    if made.count < expected {
                        report.interrupted = true
                        return report
                    }
                }
            }
        }
        return report
    }
}
