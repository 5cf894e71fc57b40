// `rivers inpaint`: fills the masked regions of images with a trained model (RePaint).
import Foundation
import Rivers

let inpaintCommand = Command(
    name: "inpaint",
    summary: """
    Fills the black regions of masks (white = keep) in images with a trained model, by RePaint: at each
    step the kept region is the real image noised to the current time and the rest comes from the
    sampler, with jumps back in time so the fill agrees with its surroundings. Each mask in --masks has
    its image's file name (any image extension). Results are <stem>_INPAINT.JPG in --out_dir, at the
    image's size; existing files are kept.
    """,
    options: [
        Option(name: "model_dir", help: "the run directory of rivers train", value: "RUN", required: true),
        Option(name: "images", help: "folder of images to fill", value: "DIR", required: true),
        Option(name: "masks", help: "folder of masks with the images' names (white = keep, black = fill)", value: "DIR", required: true),
        Option(name: "out_dir", help: "where the results go", value: "DIR", defaultValue: "inpainted"),
        Option(name: "jump_length", help: "steps gone back at each jump", value: "N", defaultValue: "10"),
        Option(name: "jump_n_sample", help: "times each jump point is visited", value: "N", defaultValue: "10"),
    ] + generationOptions(steps: "50", eta: "1", seedHelp: "seed of the noise (per image name)", batch: false) + [
        threadsOption,
        quietOption,
    ],
    run: runInpaint
)

func runInpaint(_ args: ParsedArguments) throws -> Int32 {
    try applyThreads(args)
    let generation = try GenerationArguments(args)
    let (steps, eta, seed) = (generation.steps, generation.eta, generation.seed)
    let jump = try args.int("jump_length"), samples = try args.int("jump_n_sample")
    guard (1...steps).contains(jump) else { throw UsageError(description: "--jump_length must be 1 to --generate_diffusion_steps (\(steps)), got \(jump)") }
    guard (1...100).contains(samples) else { throw UsageError(description: "--jump_n_sample must be 1 to 100, got \(samples)") }
    let imagesDir = args.string("images")!, masksDir = args.string("masks")!, outDir = args.string("out_dir")!
    guard !outDir.isEmpty else { throw UsageError(description: "--out_dir must not be empty") }
    for dir in [imagesDir, masksDir] where !FileOps.isDirectory(dir) {
        throw RiversError.file(path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
    }
    let model = try TrainedModel(run: args.string("model_dir")!, checkpoint: generation.checkpoint)
    // Every image's mask is found and decoded before any work.
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: imagesDir)) ?? []).filter { !$0.hasPrefix(".") && ImageFile.isImageName($0) }.sorted()
    guard !names.isEmpty else { throw RiversError.file(path: imagesDir, reason: "has no .jpg, .jpeg or .png images") }
    let maskNames = ((try? FileManager.default.contentsOfDirectory(atPath: masksDir)) ?? []).filter { ImageFile.isImageName($0) }
    var jobs: [(name: String, image: Image, mask: Image)] = []
    for name in names {
        let stem = (name as NSString).deletingPathExtension
        guard let maskName = maskNames.first(where: { ($0 as NSString).deletingPathExtension == stem }) else {
            throw RiversError.file(path: (masksDir as NSString).appendingPathComponent(stem + ".*"), reason: "missing: every image needs a mask with its name")
        }
        let image = try ImageFile.read((imagesDir as NSString).appendingPathComponent(name))
        let mask = try ImageFile.read((masksDir as NSString).appendingPathComponent(maskName))
        jobs.append((name, image, mask))
    }
    try FileOps.makeDirectory(outDir)
    Interrupt.install()
    let H = model.height, W = model.width
    let predictor = try model.predictor(batch: 1)
    let repaint = RePaint(sampler: DDIMSampler(schedule: model.record.train.schedule, steps: steps, eta: eta), jumpLength: jump, jumpSamples: samples)
    let perImage = RePaint.schedule(steps: steps, jumpLength: jump, jumpSamples: samples).count - 1
    let bar = ProgressBar(title: "inpaint", total: perImage * jobs.count, unit: "step", enabled: !args.has("quiet"))
    var written = 0, kept = 0
    for job in jobs {
        if Interrupt.requested { break }
        let out = (outDir as NSString).appendingPathComponent((job.name as NSString).deletingPathExtension + "_INPAINT.JPG")
        if FileManager.default.fileExists(atPath: out) { kept += 1; bar.advance(by: perImage); continue }
        // The image and its mask, centre-cropped to the model's aspect; the mask at the image's size.
        let image = Geometry.cropToAspectRatio(job.image, width: W, height: H)
        let fullMask = Geometry.resizeBilinear(Geometry.cropToAspectRatio(job.mask, width: W, height: H), width: image.width, height: image.height)
        let small = Geometry.resizeBilinear(image, width: W, height: H), smallMask = Geometry.resizeBilinear(fullMask, width: W, height: H)
        var x0 = small.pixels.map { Float($0) / 255 }
        x0.withUnsafeMutableBufferPointer { model.normalizer.normalise($0.baseAddress!, pixels: H * W) }
        let keep = (0..<(H * W)).map { p -> Float in keeps(smallMask, p) ? 1 : 0 }
        var rngs = [SeededGenerator(seed: seed, stream: ["inpaint", job.name])]
        var filled = repaint.inpaint(predictor, x0: x0, mask: keep, rngs: &rngs) { bar.advance() }
        filled.withUnsafeMutableBufferPointer { model.normalizer.denormalise($0.baseAddress!, pixels: H * W) }
        let result = filled.withUnsafeBufferPointer { Generation.image($0.baseAddress!, width: W, height: H) }
        // Back at the image's size: the kept pixels are the original's, the filled ones the model's.
        var final = Geometry.resizeBilinear(result, width: image.width, height: image.height)
        for p in 0..<(image.width * image.height) where keeps(fullMask, p) {
            for c in 0..<3 { final.pixels[p * 3 + c] = image.pixels[p * 3 + c] }
        }
        do {
            try ImageFile.write(final, to: out)
            written += 1
        } catch RiversError.exists(_) {
            kept += 1
        }
    }
    bar.finish()
    print("\(written) images inpainted into \(outDir)\(kept > 0 ? ", \(kept) already there and kept" : "")")
    if Interrupt.requested {
        print("interrupted: run the same command again to fill the rest.")
        return 130
    }
    return 0
}

/// A mask pixel keeps the image when its mean channel is at least half white.
func keeps(_ mask: Image, _ p: Int) -> Bool {
    Int(mask.pixels[p * 3]) + Int(mask.pixels[p * 3 + 1]) + Int(mask.pixels[p * 3 + 2]) >= 3 * 128
}
