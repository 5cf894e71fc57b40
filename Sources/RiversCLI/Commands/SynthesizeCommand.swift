// `rivers synthesize`: a small procedural dataset to try the pipeline on.
import Foundation
import Rivers

/// Where synthesize writes: given on the command line only.
struct SynthesizeInputs: SettingGroup {
    var outDir = ""
    static let name = "command line"
    static let settings: [Setting<SynthesizeInputs>] = [
        Setting(SharedSettings.outDir.help("where the label folders are written"), \.outDir)
    ]
}

let synthesizeCommand = Command(
    name: "synthesize",
    abstract: "Write a small synthetic raw dataset of stream photos.",
    summary: """
        Writes a small synthetic raw dataset: procedural photos of a stream at 6 camera sites, water rising
        with the flow label (1 to 6), counts uneven across labels and sites, in the layout `rivers balance`
        reads; existing files are kept. sample_images/ was made this way.
        """,
    options: SynthesizeInputs.options(required: ["out_dir"]) + commonOptions(["config"]) + SynthesizeConfig.options(),
    run: { args in
        let out = try args.resolve(SynthesizeInputs()).outDir
        let settings = try section(args, \.synthesize)
        Interrupt.install()
        let n = try SampleDataset.write(
            to: out, labels: settings.labels, width: settings.imageSize[1], height: settings.imageSize[0],
            seed: settings.seed, copies: settings.copies, shouldStop: { Interrupt.requested })
        if Interrupt.requested {
            print(
                "\(counted(n, "image")) written under \(out); interrupted: run the same command again to write the rest."
            )
            return Interrupt.status
        }
        print("\(counted(n, "image")) written under \(out)")
        return 0
    }
)
