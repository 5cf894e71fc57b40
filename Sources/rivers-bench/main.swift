// rivers-bench: measured figures for this machine (never part of `swift test`).
import Foundation
import Rivers

func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

/// Columns padded to their widest cell, first column left-aligned.
func table(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
    }.joined(separator: "\n")
}

let common = [
    Option(name: "threads", help: "worker threads", value: "N", defaultValue: String(Parallel.threadCount)),
    Option(name: "json", help: "print the figures as one JSON object on the last line", arity: .flag),
]
/// `rivers train`'s model options with some defaults changed, plus `--steps` and the common ones.
func modelOptions(defaults: [String: String], without: String? = nil) -> [Option] {
    ModelOptions.options.filter { $0.name != without }.map { o in
        var o = o
        if let d = defaults[o.name] { o.defaultValue = d }
        return o
    } + [Option(name: "steps", help: "timed steps after one warm-up (the median is reported)", value: "K", defaultValue: "3")] + common
}

let sections: [(Command, (ParsedArguments) throws -> [String: Any])] = [
    (Command(name: "balance", summary: "augmented 600x200 JPEGs per second (decode, rotate-zoom-crop, encode, write)",
             options: [Option(name: "in_dir", help: "folder of images", value: "DIR", defaultValue: "../shared/data/river_samples")] + common) { _ in 0 },
     benchBalance),
    (Command(name: "peak", summary: "the FMA peak of this machine (GFLOP/s, all threads and one)", options: common) { _ in 0 }, benchPeak),
    (Command(name: "kernels", summary: "each convolution pass of the U-Net's shapes: GFLOP/s and % of the measured peak",
             options: [Option(name: "batch_size", help: "batch", value: "N", defaultValue: "8"),
                       Option(name: "repeats", help: "timed runs per pass (the best is kept)", value: "N", defaultValue: "3")] + common) { _ in 0 },
     benchKernels),
    (Command(name: "train-step", summary: "one training step of the U-Net (forward, backward, AdamW, EMA): seconds, GFLOP/s, memory",
             options: modelOptions(defaults: ["image_size": "64 192"])) { _ in 0 }, benchTrainStep),
    (Command(name: "sample-step", summary: "one sampling step (a forward pass with the EMA weights): seconds, GFLOP/s, memory",
             options: modelOptions(defaults: ["batch_size": "1"], without: "use_mix_precision")) { _ in 0 }, benchSampleStep),
]

var argv = Array(CommandLine.arguments.dropFirst())
func usage() -> String {
    (["usage: rivers-bench <section> [options] [--json]", "", "sections:"] + sections.map { "  \($0.0.name.padding(toLength: 12, withPad: " ", startingAt: 0))\($0.0.summary)" }).joined(separator: "\n")
}
guard let name = argv.first, !name.hasPrefix("-") else { print(usage()); exit(argv.isEmpty ? 0 : 2) }
guard let (command, run) = sections.first(where: { $0.0.name == name }) else {
    FileHandle.standardError.write("rivers-bench: error: unknown section '\(name)'\n\(usage())\n".data(using: .utf8)!)
    exit(2)
}
do {
    let args = try command.parse(Array(argv.dropFirst()))
    if args.wantsHelp { print(command.usage); exit(0) }
    Parallel.threadCount = max(1, try args.int("threads"))
    let result = try run(args)
    if args.has("json") {
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(data: data, encoding: .utf8)!)
    }
} catch {
    FileHandle.standardError.write("rivers-bench: error: \(error)\n".data(using: .utf8)!)
    exit(1)
}
