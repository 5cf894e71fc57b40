// `rivers synthesize`: a small procedural dataset to try the pipeline on.
import Foundation
import Rivers

let synthesizeCommand = Command(
    name: "synthesize",
    summary: """
    Writes a small synthetic raw dataset: procedural photos of a stream at 6 camera sites, water rising
    with the flow label (1 to 6), counts uneven across labels and sites, in the layout `rivers balance`
    reads; existing files are kept. sample_images/ was made this way.
    """,
    options: [
        Option(name: "out_dir", help: "where the label folders are written", value: "DIR", required: true),
        Option(name: "labels", help: "3: labels 1-3; 6: labels 1-6", value: "N", defaultValue: "6"),
        Option(name: "image_size", help: "height and width", value: "H W", defaultValue: "200 600", arity: .many),
        Option(name: "seed", help: "seed of the scenes", value: "N", defaultValue: "42"),
    ],
    run: { args in
        let size = (args.values["image_size"] ?? ["200", "600"]).compactMap { Int($0) }
        guard size.count == 2, size.allSatisfy({ $0 > 0 }) else { throw UsageError(description: "--image_size takes two positive whole numbers: height width") }
        guard let seed = UInt64(args.string("seed") ?? "") else { throw UsageError(description: "--seed must be a non-negative whole number") }
        let labels = try args.int("labels")
        guard labels == 3 || labels == 6 else { throw UsageError(description: "--labels must be 3 or 6, got \(labels)") }
        let out = args.string("out_dir")!
        let n = try SampleDataset.write(to: out, labels: labels, width: size[1], height: size[0], seed: seed)
        print("\(n) images written under \(out)")
        return 0
    }
)
