// `rivers-bench balance`: augmented images per second through the real balance executor.
import Foundation
import Rivers
import RiversCLI

func benchBalance(_ args: ParsedArguments) throws -> [String: Any] {
    let work = NSTemporaryDirectory() + "rivers-bench-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: work) }
    var inDir = try args.resolve(BenchOptions()).inDir
    var names: [String]
    if FileOps.isDirectory(inDir) {
        names = try FileManager.default.contentsOfDirectory(atPath: inDir).filter(ImageFile.isImageName).sorted()
    } else {
        print("\(inDir) not found: using 20 generated 600x200 images")
        inDir = work + "/in"
        try FileOps.makeDirectory(inDir)
        names = (0..<20).map { "S\($0)_generated.JPG" }
        for (i, name) in names.enumerated() {
            try ImageFile.write(SyntheticRiver.image(flowLabel: 1 + i % 6, site: i, seed: 1), to: inDir + "/" + name)
        }
    }
    guard !names.isEmpty else { throw RiversError.file(path: inDir, reason: "no images to benchmark") }
    // Every source climbs the whole default ladder: 12 copies per image, as a site of
    // one image does in `rivers balance`.
    let ladder = Rung.ladder(theta: 5, fact: 1.3, multiplier: 6)
    var seconds: [Double] = []
    var produced = 0
    for round in 0..<3 {
        let out = work + "/out\(round)"
        let copies = names.flatMap { name in
            ladder.map { RotatedCopy(source: name, output: $0.outputName(forSource: name), rung: $0) }
        }
        let plan = BalancePlan(labels: [
            LabelPlan(label: 1, inputDir: inDir, outputDir: out, originals: [], target: 0, sites: [], copies: copies)
        ])
        let start = Date()
        let report = try Balance.execute(plan)
        seconds.append(Date().timeIntervalSince(start))
        produced = report.written
        guard report.failures.isEmpty else {
            throw RiversError.file(path: report.failures[0].path, reason: report.failures[0].reason)
        }
    }
    let best = seconds.min()!
    let rate = Double(produced) / best
    print(
        table([
            ["images", "threads", "best of 3 (s)", "images/s", "peak RSS (MiB)"],
            [
                String(produced), String(Parallel.threadCount), fmt(best, 3), fmt(rate, 1),
                fmt(Double(ResourceUsage.peakResidentBytes()) / 1048576, 1),
            ],
        ]))
    return [
        "images_per_second": rate, "images": produced, "seconds": best, "threads": Parallel.threadCount,
        "peak_rss_bytes": ResourceUsage.peakResidentBytes(),
    ]
}
