// `rivers inpaint`: images paired with their masks, each filled by RePaint with a trained model
// and written beside the others as <stem>_INPAINT.JPG, never overwriting.
import Foundation

/// One image to fill and its mask (white = keep, black = fill).
public struct InpaintJob {
    public let name: String
    public let image: Image
    public let mask: Image
}

public struct InpaintReport {
    public var written = 0, kept = 0
    public var interrupted = false
}

public enum InpaintRun {
    /// Every image of `imagesDir` with the mask of its name (any image extension) in `masksDir`,
    /// all decoded before any work. Refused, each in one line naming the files: a missing folder,
    /// no images, a missing mask, two images of one name (A.jpg and A.png would both be
    /// A_INPAINT.JPG), two masks for one image, a file that does not decode.
    public static func jobs(images imagesDir: String, masks masksDir: String) throws -> [InpaintJob] {
        for dir in [imagesDir, masksDir] where !FileOps.isDirectory(dir) {
            throw RiversError.file(
                path: dir, reason: FileManager.default.fileExists(atPath: dir) ? "is not a folder" : "does not exist")
        }
        let names = imageNames(imagesDir)
        guard !names.isEmpty else {
            throw RiversError.file(path: imagesDir, reason: "has no .jpg, .jpeg or .png images")
        }
        let masks = Dictionary(grouping: imageNames(masksDir)) { stem($0) }
        var seen: [String: String] = [:]
        var pairs: [(image: String, mask: String)] = []
        for name in names {
            let s = stem(name)
            if let other = seen[s] {
                throw RiversError.file(
                    path: imagesDir,
                    reason:
                        "holds two images named \(s) (\(other) and \(name)), which would both be written as \(s)_INPAINT.JPG: rename one"
                )
            }
            seen[s] = name
            guard let found = masks[s] else {
                throw RiversError.file(
                    path: (masksDir as NSString).appendingPathComponent(s + ".*"),
                    reason: "missing: every image needs a mask with its name")
            }
            guard found.count == 1 else {
                throw RiversError.file(
                    path: masksDir,
                    reason:
                        "holds \(found.count) masks for the image \(name) (\(found.joined(separator: " and "))): keep one"
                )
            }
            pairs.append((name, found[0]))
        }
        return try pairs.map { pair in
            InpaintJob(
                name: pair.image, image: try ImageFile.read((imagesDir as NSString).appendingPathComponent(pair.image)),
                mask: try ImageFile.read((masksDir as NSString).appendingPathComponent(pair.mask)))
        }
    }

    /// The visible image files of `dir`, sorted.
    static func imageNames(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
            !$0.hasPrefix(".") && ImageFile.isImageName($0)
        }.sorted()
    }

    static func stem(_ name: String) -> String { (name as NSString).deletingPathExtension }

    /// Refuses, before any work, an `outDir` that is `--images` or `--masks` or lies inside one
    /// (through a link or otherwise): its results would be taken as images (or masks) by the next run.
    public static func checkOutside(outDir: String, images: String, masks: String) throws {
        try FileOps.checkOutside(outDir, "--out_dir", input: images, "--images")
        try FileOps.checkOutside(outDir, "--out_dir", input: masks, "--masks")
    }

    /// The output path of a job.
    public static func output(_ job: InpaintJob, outDir: String) -> String {
        (outDir as NSString).appendingPathComponent(stem(job.name) + "_INPAINT.JPG")
    }

    /// Network evaluations of one image, for progress.
    public static func stepsPerImage(_ settings: InpaintConfig) -> Int {
        RePaint.schedule(
            steps: settings.generation.steps, jumpLength: settings.jumpLength, jumpSamples: settings.jumpSamples
        ).count - 1
    }

    /// Fills every job whose output is not there yet, after removing the temporaries of killed
    /// writers from `outDir`; `step` is called per network evaluation (and with a whole image's
    /// count for a kept one). `shouldStop` is polled before every network evaluation: once it
    /// says so, the image being filled is dropped (never written) and the report says interrupted,
    /// so the same call again fills the rest.
    public static func execute(
        _ jobs: [InpaintJob], model: TrainedModel, settings: InpaintConfig, outDir: String,
        step: (Int) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) throws -> InpaintReport {
        try FileOps.makeDirectory(outDir)
        FileOps.removeStaleTemporaries(in: outDir)
        let H = model.height, W = model.width, g = settings.generation
        let predictor = try model.predictor(batch: 1)
        let repaint = RePaint(
            sampler: g.ddim(model.record.train.schedule), jumpLength: settings.jumpLength,
            jumpSamples: settings.jumpSamples)
        let perImage = stepsPerImage(settings)
        var report = InpaintReport()
        for job in jobs {
            if shouldStop() { report.interrupted = true; break }
            let out = output(job, outDir: outDir)
            if FileManager.default.fileExists(atPath: out) { report.kept += 1; step(perImage); continue }
            // The image and its mask, center-cropped to the model's aspect; the mask at the image's size.
            let image = Geometry.cropToAspectRatio(job.image, width: W, height: H)
            let fullMask = Geometry.resizeBilinear(
                Geometry.cropToAspectRatio(job.mask, width: W, height: H), width: image.width, height: image.height)
            let small = Geometry.resizeBilinear(image, width: W, height: H),
                smallMask = Geometry.resizeBilinear(fullMask, width: W, height: H)
            var x0 = small.pixels.map { Float($0) / 255 }
            x0.withUnsafeMutableBufferPointer { model.normalizer.normalize($0.baseAddress!, pixels: H * W) }
            let keep = (0..<(H * W)).map { p -> Float in keeps(smallMask, p) ? 1 : 0 }
            var rngs = [SeededGenerator(seed: g.seed, stream: ["inpaint", job.name])]
            guard
                var filled = repaint.inpaint(
                    predictor, x0: x0, mask: keep, rngs: &rngs, onStep: { step(1) }, shouldStop: shouldStop)
            else {
                report.interrupted = true  // the unfinished image is not written
                break
            }
            filled.withUnsafeMutableBufferPointer { model.normalizer.denormalize($0.baseAddress!, pixels: H * W) }
            let result = filled.withUnsafeBufferPointer { Generation.image($0.baseAddress!, width: W, height: H) }
            // Back at the image's size: the kept pixels are the original's, the filled ones the model's.
            var final = Geometry.resizeBilinear(result, width: image.width, height: image.height)
            for p in 0..<(image.width * image.height) where keeps(fullMask, p) {
                for c in 0..<3 { final.pixels[p * 3 + c] = image.pixels[p * 3 + c] }
            }
            do {
                try ImageFile.write(final, to: out)
                report.written += 1
            } catch RiversError.exists(_) {
                report.kept += 1
            }
        }
        return report
    }

    /// A mask pixel keeps the image when its mean channel is at least half white.
    static func keeps(_ mask: Image, _ p: Int) -> Bool {
        Int(mask.pixels[p * 3]) + Int(mask.pixels[p * 3 + 1]) + Int(mask.pixels[p * 3 + 2]) >= 3 * 128
    }
}
