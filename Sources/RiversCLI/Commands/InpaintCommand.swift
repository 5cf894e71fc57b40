// `rivers inpaint`: fills the masked regions of images with a trained model (RePaint).
import Foundation
import Rivers

/// The run, images and masks inpaint reads: given on the command line only.
struct InpaintInputs: SettingGroup {
    var modelDir = "", images = "", masks = ""

    static let name = "command line"
    static let settings: [Setting<InpaintInputs>] = [
        Setting("model_dir", "the run directory of rivers train", \.modelDir, placeholder: "RUN", range: .nonEmpty),
        Setting("images", "folder of images to fill", \.images, placeholder: "DIR", range: .nonEmpty),
        Setting(
            "masks", "folder of masks with the images' names (white = keep, black = fill)", \.masks, placeholder: "DIR",
            range: .nonEmpty),
    ]
}

let inpaintCommand = Command(
    name: "inpaint",
    abstract: "Fill the masked regions of images with a trained model (RePaint).",
    summary: """
        Fills the black regions of masks (white = keep) in images with a trained model, by RePaint: at each
        step the kept region is the real image noised to the current time and the rest comes from the
        DDIM sampler, with jumps back in time so the fill agrees with its surroundings (DDIM only: the
        jumps and the re-noised kept region need a sampler whose step depends on the current state alone,
        which DPM-Solver++'s multistep update is not). Each mask in --masks has
        its image's file name (any image extension). Results are <stem>_INPAINT.JPG in --out_dir, at the
        image's size; existing files are kept. Refused before any work: an --out_dir in --images or --masks,
        two images of one name (A.jpg and A.png), two masks for one image. Ctrl-C drops the image being filled
        (status 130, 143 after SIGTERM); the same command again fills the rest.
        """,
    options: InpaintInputs.options(required: ["model_dir", "images", "masks"]) + commonOptions(["config"])
        + InpaintConfig.options()
        + commonOptions(["threads", "quiet"]),
    run: runInpaint
)

func runInpaint(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(InpaintInputs())
    let settings = try section(args, \.inpaint)
    // Ctrl-C from here on is a request: what is read or being filled is dropped, nothing half-written.
    Interrupt.install()
    try InpaintRun.checkOutside(outDir: settings.outDir, images: inputs.images, masks: inputs.masks)
    let jobs = try InpaintRun.jobs(images: inputs.images, masks: inputs.masks)
    let model = try TrainedModel(run: inputs.modelDir, checkpoint: settings.generation.checkpoint)
    let bar = ProgressBar(
        title: "inpaint", total: InpaintRun.stepsPerImage(settings) * jobs.count, unit: "step", enabled: !options.quiet)
    let report = try InpaintRun.execute(
        jobs, model: model, settings: settings, outDir: settings.outDir,
        step: { bar.advance(by: $0) }, shouldStop: { Interrupt.requested })
    bar.finish()
    print(
        "\(counted(report.written, "image")) inpainted into \(settings.outDir)\(report.kept > 0 ? ", \(report.kept) already there and kept" : "")"
    )
    if report.interrupted {
        print("interrupted: run the same command again to fill the rest.")
        return Interrupt.status
    }
    return 0
}
