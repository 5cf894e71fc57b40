// `rivers infer`: images from a trained run's EMA weights, a contact sheet, and the
// memorisation check against the run's training images.
import Foundation
import Rivers

let inferCommand = Command(
    name: "infer",
    summary: """
    Generates images with the EMA weights of a trained run (configuration and normaliser come from the
    run; no training data is needed) by DDIM sampling, in batches of independent noise. Files are named
    S0_D<mmddyy>_<mmddyy>_0_<n>_DM_AUG_L<label>.JPG at the next free indices: nothing is overwritten.
    Also writes a contact sheet, and compares each image with its nearest training image.
    """,
    options: [
        Option(name: "model_dir", help: "the run directory of rivers train", value: "RUN", required: true),
        Option(name: "images_to_generate", help: "how many images", value: "N", defaultValue: "5"),
    ] + generationOptions(steps: "30", eta: "0", seedHelp: "seed of the noise (image n of a folder draws from (seed, n), so a rerun adds new images)") + [
        Option(name: "out_dir", help: "where the images go (default: RUN/generated_images)", value: "DIR"),
        Option(name: "no_memorisation_check", help: "skip the comparison with the training images", arity: .flag),
        threadsOption,
        Option(name: "dry_run", help: "print what would be generated and the memory it takes; write nothing", arity: .flag),
        quietOption,
    ],
    run: runInfer
)

func runInfer(_ args: ParsedArguments) throws -> Int32 {
    try applyThreads(args)
    let count = try args.int("images_to_generate")
    guard (1...100_000).contains(count) else { throw UsageError(description: "--images_to_generate must be 1 to 100000, got \(count)") }
    let generation = try GenerationArguments(args)
    let (steps, eta, seed) = (generation.steps, generation.eta, generation.seed)
    let model = try TrainedModel(run: args.string("model_dir")!, checkpoint: generation.checkpoint)
    let outDir = args.string("out_dir") ?? model.directory.generatedDir
    guard !outDir.isEmpty else { throw UsageError(description: "--out_dir must not be empty") }
    if FileOps.isSameOrInside(outDir, model.record.inDir) {
        throw UsageError(description: "--out_dir \(outDir) is inside the run's training images \(model.record.inDir); choose another folder")
    }
    let available = ResourceUsage.availableBytes()
    let batch = try generation.batch ?? InferencePlan.automaticBatch(model, count: count, available: available)
    let plan = InferencePlan(count: count, sampler: DDIMSampler(schedule: model.record.train.schedule, steps: steps, eta: eta), seed: seed,
                             batch: min(batch, count), outDir: outDir, label: model.record.label,
                             firstIndex: InferencePlan.nextIndex(in: outDir, label: model.record.label),
                             memoryBytes: try model.memory(batch: min(batch, count)))
    let last = plan.firstIndex + count - 1
    print("model: \(model.directory.path) (label \(plan.label), \(model.height)x\(model.width), \((model.checkpointPath as NSString).lastPathComponent) after epoch \(model.epoch))")
    print("generating \(count) images with \(steps) DDIM steps, eta \(formatNumber(eta)), seed \(seed), batches of \(plan.batch), indices \(plan.firstIndex)..\(last), into \(outDir); memory \(mebibytes(plan.memoryBytes)) of \(mebibytes(available)) available")
    if plan.memoryBytes > available {
        throw UsageError(description: "batches of \(plan.batch) need \(mebibytes(plan.memoryBytes)) and \(mebibytes(available)) is available; use a smaller --batch_size")
    }
    if args.has("dry_run") {
        print("dry run: nothing was written.")
        return 0
    }
    let comm = Job.world
    if comm.isRoot {
        try FileOps.makeDirectory(outDir)
        FileOps.removeStaleTemporaries(in: outDir)
    }
    Interrupt.install()
    let predictor = try model.predictor(batch: plan.batch)
    var started = Date()
    // Rank 0 claims the indices and dates the names; batch j of the indices goes to rank j mod
    // ranks, so each image is the one a single process makes (image n draws from (seed, n)) and
    // no two ranks write one name.
    let claims = comm.isRoot ? try IndexClaims(dir: outDir, label: plan.label, count: count) {
        GeneratedNames.pure(label: plan.label, index: $0, date: started)
    } : nil
    defer { claims?.releaseAll() }
    let shared = try JSONDecoder().decode([Double].self, from: comm.broadcast(
        try JSONEncoder().encode([started.timeIntervalSince1970] + (claims?.indices ?? []).map(Double.init)), root: 0))
    started = Date(timeIntervalSince1970: shared[0])
    let indices = shared.dropFirst().map { Int($0) }
    let name = { (n: Int) in GeneratedNames.pure(label: plan.label, index: n, date: started) }
    let batchStarts = comm.share(of: (count + plan.batch - 1) / plan.batch).map { $0 * plan.batch }
    let bar = ProgressBar(title: "infer", total: batchStarts.count * steps, unit: "step", enabled: !args.has("quiet"))
    var written: [(path: String, image: Image)] = []
    var done = 0, stepsDone = 0
    for start in batchStarts where !Interrupt.requested {
        let n = min(plan.batch, count - start)
        let batchIndices = Array(indices[start..<(start + n)])
        let images = Generation.images(indices: batchIndices, predictor: predictor, normalizer: model.normalizer,
                                       sampler: plan.sampler, seed: seed, stream: "infer") { _ in
            stepsDone += 1
            // Images' worth of finished steps per second (a batch of n takes `steps` steps).
            let rate = Double(done) + Double(stepsDone % steps == 0 ? steps : stepsDone % steps) / Double(steps) * Double(n)
            bar.advance(note: String(format: "%.2f img/s", rate / max(Date().timeIntervalSince(started), 1e-9)))
        }
        for (k, image) in zip(batchIndices, images) {
            let (path, _) = try GeneratedNames.writeAtNextFreeIndex(image, in: outDir, from: k, name: name)
            claims?.release(k)
            written.append((path, image))
        }
        done += n
    }
    if comm.size > 1 {
        // Rank 0 reports on every rank's images: their paths come over, the pixels from the files.
        let paths = try comm.allGather(JSONEncoder().encode(written.map(\.path))).flatMap { try JSONDecoder().decode([String].self, from: $0) }
        let mine = Set(written.map(\.path))
        let others = try paths.filter { !mine.contains($0) }.map { ($0, try ImageFile.read($0)) }
        written = (written + others).sorted { ($0.path.indexNumber ?? Int.max, $0.path) < ($1.path.indexNumber ?? Int.max, $1.path) }
        if !comm.isRoot { return Interrupt.requested ? 130 : 0 }
    }
    bar.finish()
    let seconds = Date().timeIntervalSince(started)
    print(String(format: "%d images written into %@ in %.1f s (%.2f s per image)", written.count, outDir, seconds, seconds / Double(max(written.count, 1))))
    guard !written.isEmpty else { return Interrupt.requested ? 130 : 0 }
    let tag = "\(written.first!.path.indexTag)-\(written.last!.path.indexTag)"
    if let sheet = Generation.grid(written.map(\.image), columns: model.width >= 2 * model.height ? 2 : 4) {
        let path = try writeNewSheet(sheet, dir: outDir, name: "contact_sheet_L\(plan.label)_\(tag)")
        print("contact sheet: \(path)")
    }
    if !args.has("no_memorisation_check") {
        try memorisationCheck(model, images: written.map(\.image), names: written.map { ($0.path as NSString).lastPathComponent },
                              outDir: outDir, tag: tag, quiet: args.has("quiet"))
    }
    if Interrupt.requested {
        print("interrupted: \(written.count) of \(count) images were written; run again for more (new files take the next indices).")
        return 130
    }
    return 0
}

extension String {
    /// The index of a generated image's name (`S0_D.._.._0_<n>_DM_...`), for companion file names.
    var indexTag: String { indexNumber.map(String.init) ?? "x" }
    var indexNumber: Int? { GeneratedNames.identity(of: (self as NSString).lastPathComponent)?.index }
}

/// Writes a PNG named `<name>.png`, or `<name>-2.png`, ... when that exists.
func writeNewSheet(_ image: Image, dir: String, name: String) throws -> String {
    let data = try ImageFile.encode(image, path: name + ".png")
    for k in 1...1000 {
        let path = (dir as NSString).appendingPathComponent(k == 1 ? name + ".png" : "\(name)-\(k).png")
        do {
            try FileOps.writeNew(data, to: path)
            return path
        } catch RiversError.exists(_) {
            continue
        }
    }
    throw RiversError.exists(path: (dir as NSString).appendingPathComponent(name + ".png"))
}

/// Compares each generated image with the run's training images (when still readable), prints a
/// summary and near copies, and writes the pairs side by side.
func memorisationCheck(_ model: TrainedModel, images: [Image], names: [String], outDir: String, tag: String, quiet: Bool) throws {
    let H = model.height, W = model.width
    guard let scan = try? TrainingImages.scan(model.record.inDir) else {
        note("memorisation check skipped: the training images at \(model.record.inDir) are not readable")
        return
    }
    var thumbs: [[Float]] = [], paths: [String] = []
    let bar = ProgressBar(title: "training images", total: scan.images.count, enabled: !quiet)
    for path in scan.images {
        if let image = try? ImageFile.read(path) {
            thumbs.append(Memorisation.thumbnail(image, height: H, width: W))
            paths.append(path)
        }
        bar.advance()
    }
    bar.finish()
    guard !thumbs.isEmpty else { return note("memorisation check skipped: no readable training images at \(model.record.inDir)") }
    let matches = Memorisation.nearest(images.map { Memorisation.thumbnail($0, height: H, width: W) }, among: thumbs)
    let distances = matches.map(\.distance).sorted()
    print(String(format: "memorisation check against %d training images (RMS distance at %d px high, 0-1 scale): nearest min %.3f, median %.3f, max %.3f",
                 thumbs.count, Memorisation.compareHeight, distances.first!, distances[distances.count / 2], distances.last!))
    let copies = matches.filter(\.nearCopy)
    if copies.isEmpty {
        print(String(format: "no near copies (distance below %.2f)", Memorisation.nearCopyThreshold))
    } else {
        print(String(format: "%d near copies (distance below %.2f):", copies.count, Memorisation.nearCopyThreshold))
        for m in copies { print(String(format: "  %@ ~ %@ (%.3f)", names[m.generated], paths[m.training], m.distance)) }
    }
    var pairs: [Image] = []
    for m in matches {
        pairs.append(images[m.generated])
        let source = (try? ImageFile.read(paths[m.training])).map {
            Geometry.resizeBilinear(Geometry.cropToAspectRatio($0, width: W, height: H), width: W, height: H)
        }
        pairs.append(source ?? Image(width: W, height: H))
    }
    if let sheet = Generation.grid(pairs, columns: 2) {
        print("nearest neighbours (generated | nearest training image): \(try writeNewSheet(sheet, dir: outDir, name: "nearest_neighbours_L\(model.record.label)_\(tag)"))")
    }
}
