// `rivers infer`, step two: the plan carried out. Rank 0 claims file indices, every rank makes
// its share of the batches, and rank 0 writes the contact sheet and the memorization check (into
// `sheets/` beside the images' folder, which holds generated images only).
import Foundation

/// What an inference run reports while it works.
public struct InferenceEvents {
    /// One sampling step of a batch finished: images' worth of finished steps per second so far.
    public var step: (_ imagesPerSecond: Double) -> Void = { _ in }
    /// Asked between steps: true stops the run after the images already finished.
    public var shouldStop: () -> Bool = { false }
    /// The memorization check reads the run's training images: their count, then one call each.
    public var trainingImages: (_ count: Int) -> Void = { _ in }
    public var trainingImageRead: () -> Void = {}
    public init() {}
}

/// What an inference run made.
public struct InferenceReport {
    /// Every image written (on rank 0: every rank's), in index order.
    public var written: [(path: String, image: Image)] = []
    public var seconds = 0.0
    public var interrupted = false
    public var contactSheet: String?
    public var memorization: MemorizationReport?
}

/// The memorization check's result, its sheet written into the plan's `sheetsDir`.
public struct MemorizationReport {
    public var trainingImages: Int
    /// Sorted RMS distances of each generated image to its nearest training image.
    public var distances: [Float]
    /// Near copies: generated file name, training image path, distance.
    public var nearCopies: [(generated: String, training: String, distance: Float)]
    /// The side-by-side sheet (generated | nearest training image).
    public var sheet: String?
    /// Why the check was skipped, when it was.
    public var skipped: String?
}

public enum InferenceRun {
    /// The plan of `rivers infer` for `model` under the `generate` settings, into `outDir`.
    public static func plan(
        _ model: TrainedModel, _ settings: GenerateConfig, outDir: String, available: Int,
        comm: Communicator = Job.world
    ) throws -> InferencePlan {
        try FileOps.checkOutside(
            outDir, "--out_dir", parts: [InferencePlan.sheetsDir(outDir: outDir)], input: model.record.inDir,
            "the run's training images")
        let count = settings.imagesToGenerate
        let g = settings.generation
        // Every rank takes rank 0's batch: the rounds split indices by it.
        let own = min(try g.batchSize ?? InferencePlan.automaticBatch(model, count: count, available: available), count)
        let batch =
            comm.size > 1
            ? (try JSONDecoder().decode(Int.self, from: comm.broadcast(try JSONEncoder().encode(own), root: 0))) : own
        return InferencePlan(
            count: count, sampler: g.sampler(model.record.train.schedule), seed: g.seed, batch: batch, outDir: outDir,
            label: model.record.label, firstIndex: InferencePlan.nextIndex(in: outDir, label: model.record.label),
            memoryBytes: try model.memory(batch: batch))
    }

    /// Generates the plan's images into its folder (rank 0 creates it and claims the indices;
    /// batch j goes to rank j mod ranks, so each image is the one a single process makes), then on
    /// rank 0 the contact sheet and, unless `memorizationCheck` is false, the memorization check
    /// (both sheets into the plan's `sheetsDir`, beside the images' folder).
    public static func execute(
        _ plan: InferencePlan, model: TrainedModel, memorizationCheck: Bool = true,
        comm: Communicator = Job.world, events: InferenceEvents = InferenceEvents()
    ) throws -> InferenceReport {
        let outDir = plan.outDir, count = plan.count, steps = plan.sampler.steps
        if comm.isRoot {
            try FileOps.makeDirectory(outDir)
            FileOps.removeStaleTemporaries(in: outDir)
            IndexClaims.removeStale(in: outDir)
        }
        let predictor = try model.predictor(batch: plan.batch)
        // Rank 0 dates the names; every rank uses its date.
        let started = Date(
            timeIntervalSince1970: try JSONDecoder().decode(
                Double.self, from: comm.broadcast(try JSONEncoder().encode(Date().timeIntervalSince1970), root: 0)))
        let name = { (n: Int) in GeneratedNames.pure(label: plan.label, index: n, date: started) }
        var report = InferenceReport()
        var made = 0, done = 0, stepsDone = 0
        var stopped = false
        // Round by round, one batch per rank: rank 0 claims the round's indices (claims are taken
        // as images are made, so a killed run leaves at most one round of them), batch j of the
        // round goes to rank j, and each image is the one a single process makes (image n draws
        // from (seed, n)). Whether to go on is decided by all ranks together.
        while made < count && !stopped {
            let roundCount = min(plan.batch * comm.size, count - made)
            let claims =
                comm.isRoot
                ? try IndexClaims(dir: outDir, label: plan.label, count: roundCount) { name($0) } : nil
            defer { claims?.releaseAll() }
            let indices = try JSONDecoder().decode(
                [Int].self, from: comm.broadcast(try JSONEncoder().encode(claims?.indices ?? []), root: 0))
            let mine = Array(indices.dropFirst(comm.rank * plan.batch).prefix(plan.batch))
            if !mine.isEmpty {
                let images = try model.generating {
                    try Generation.images(
                        indices: mine, predictor: predictor, normalizer: model.normalizer, sampler: plan.sampler,
                        seed: plan.seed, stream: "infer",
                        onStep: { _ in
                            stepsDone += 1
                            let rate =
                                Double(done) + Double(stepsDone % steps == 0 ? steps : stepsDone % steps)
                                / Double(steps) * Double(mine.count)
                            events.step(rate / max(Date().timeIntervalSince(started), 1e-9))
                        }, shouldStop: events.shouldStop)
                }
                for (k, image) in zip(mine, images) {
                    let (path, _) = try GeneratedNames.writeAtNextFreeIndex(image, in: outDir, from: k, name: name)
                    claims?.release(k)
                    report.written.append((path, image))
                }
                done += images.count
            }
            made += roundCount
            comm.barrier()  // the round's images are written before its claims go
            stopped = comm.allGather(Data([events.shouldStop() ? 1 : 0])).contains { $0.first == 1 }
        }
        if comm.size > 1 {
            // Rank 0 reports on every rank's images: their paths come over, the pixels from the files.
            let paths = try comm.allGather(JSONEncoder().encode(report.written.map(\.path))).flatMap {
                try JSONDecoder().decode([String].self, from: $0)
            }
            let mine = Set(report.written.map(\.path))
            let others = try paths.filter { !mine.contains($0) }.map { ($0, try ImageFile.read($0)) }
            report.written = (report.written + others).sorted {
                (GeneratedNames.index(of: $0.path) ?? Int.max, $0.path) < (
                    GeneratedNames.index(of: $1.path) ?? Int.max, $1.path
                )
            }
            if !comm.isRoot {
                report.interrupted = stopped
                return report
            }
        }
        // Interrupted when some image was not made: status 0 when nothing was left to do.
        report.interrupted = report.written.count < count
        report.seconds = Date().timeIntervalSince(started)
        guard let first = report.written.first, let last = report.written.last else { return report }
        let tag = "\(GeneratedNames.indexTag(of: first.path))-\(GeneratedNames.indexTag(of: last.path))"
        if let sheet = Image.grid(report.written.map(\.image), columns: model.width >= 2 * model.height ? 2 : 4) {
            try FileOps.makeDirectory(plan.sheetsDir)
            report.contactSheet = try writeSheet(
                sheet, dir: plan.sheetsDir, name: "contact_sheet_L\(plan.label)_\(tag)")
        }
        if memorizationCheck {
            report.memorization = try Memorization.check(
                model, images: report.written.map(\.image),
                names: report.written.map { ($0.path as NSString).lastPathComponent },
                sheetsDir: plan.sheetsDir, tag: tag, events: events)
        }
        return report
    }

    /// Writes a PNG named `<name>.png`, or `<name>-2.png`, ... when that exists.
    public static func writeSheet(_ image: Image, dir: String, name: String) throws -> String {
        let data = try ImageFile.encode(image, path: name + ".png")
        return try FileOps.writeNew(data, in: dir, from: 1, limit: 1001) { k in
            k == 1 ? name + ".png" : "\(name)-\(k).png"
        }.path
    }
}

extension Memorization {
    /// Compares each generated image with the run's training images (when still readable) and
    /// writes the pairs side by side into `sheetsDir`.
    public static func check(
        _ model: TrainedModel, images: [Image], names: [String], sheetsDir: String, tag: String,
        events: InferenceEvents = InferenceEvents()
    ) throws -> MemorizationReport {
        let H = model.height, W = model.width
        var report = MemorizationReport(trainingImages: 0, distances: [], nearCopies: [], sheet: nil, skipped: nil)
        guard let scan = try? TrainingImages.scan(model.record.inDir) else {
            report.skipped = "the training images at \(model.record.inDir) are not readable"
            return report
        }
        var thumbs: [[Float]] = [], paths: [String] = []
        events.trainingImages(scan.images.count)
        for path in scan.images {
            if let image = try? ImageFile.read(path) {
                thumbs.append(thumbnail(image, height: H, width: W))
                paths.append(path)
            }
            events.trainingImageRead()
        }
        guard !thumbs.isEmpty else {
            report.skipped = "no readable training images at \(model.record.inDir)"
            return report
        }
        let matches = nearest(images.map { thumbnail($0, height: H, width: W) }, among: thumbs)
        report.trainingImages = thumbs.count
        report.distances = matches.map(\.distance).sorted()
        report.nearCopies = matches.filter(\.nearCopy).map { (names[$0.generated], paths[$0.training], $0.distance) }
        var pairs: [Image] = []
        for m in matches {
            pairs.append(images[m.generated])
            let source = (try? ImageFile.read(paths[m.training])).map {
                Geometry.resizeBilinear(Geometry.cropToAspectRatio($0, width: W, height: H), width: W, height: H)
            }
            pairs.append(source ?? Image(width: W, height: H))
        }
        if let sheet = Image.grid(pairs, columns: 2) {
            try FileOps.makeDirectory(sheetsDir)
            report.sheet = try InferenceRun.writeSheet(
                sheet, dir: sheetsDir, name: "nearest_neighbors_L\(model.record.label)_\(tag)")
        }
        return report
    }
}
