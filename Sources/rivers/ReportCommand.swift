// `rivers report`: one HTML page that shows trained runs (and a dataset) without opening files.
import Foundation
import Rivers

let reportCommand = Command(
    name: "report",
    summary: """
    Writes one self-contained HTML page (images embedded, no network needed) about trained runs: per run
    the loss curves, the sample grids over the epochs, generated images beside real images of its label
    and the memorisation check's nearest pairs; with --dataset, images per label and site before balance,
    after balance and after augment, as tables and bar charts. Replaces only a page it wrote itself.
    """,
    options: [
        Option(name: "model_dir", help: "run directories of rivers train, or folders holding them (such as models/)", value: "RUN", arity: .many, required: true),
        Option(name: "dataset", help: "a working folder with raw/ (or 1..6), diffusion_data/ and balanced_data/", value: "DIR"),
        Option(name: "out", help: "the HTML file to write", value: "FILE", defaultValue: "report.html"),
        Option(name: "label_measure", help: "add the water-fraction label measure (meaningful for the synthetic scenes of rivers synthesize)", arity: .flag),
        Option(name: "overview", help: "also write a PNG of each run's training images beside its generated ones (a new file)", value: "FILE"),
        Option(name: "title", help: "the page's title", value: "TEXT", defaultValue: "rivers report"),
        quietOption,
    ],
    run: runReport
)

func runReport(_ args: ParsedArguments) throws -> Int32 {
    let paths = try RunSummary.expand(args.values["model_dir"] ?? [])
    let out = args.string("out") ?? "report.html"
    try checkReportTarget(out)
    let overview = args.string("overview")
    if let overview, FileManager.default.fileExists(atPath: overview) || (try? FileManager.default.destinationOfSymbolicLink(atPath: overview)) != nil {
        throw RiversError.file(path: overview, reason: "already exists; --overview writes a new file")
    }
    let dataset = try args.string("dataset").map { try DatasetCounts.read($0) }
    let bar = ProgressBar(title: "reading runs", total: paths.count, unit: "run", enabled: !args.has("quiet"))
    var runs: [RunSummary] = []
    for path in paths {
        runs.append(try RunSummary.load(path))
        bar.advance()
    }
    bar.finish()
    runs.sort { ($0.record.label, $0.directory.path) < ($1.record.label, $1.directory.path) }
    let measure = args.has("label_measure") ? LabelMeasure(runs) : nil
    var page = ReportPage(runs: runs, dataset: dataset, labelMeasure: measure)
    page.title = args.string("title") ?? page.title
    let html = try page.html()
    try FileOps.replaceAtomically(Data(html.utf8), at: out)
    if let overview {
        guard let picture = ReportPage.overview(runs) else { throw RiversError.file(path: overview, reason: "not written: no run has both training images and generated images") }
        try FileOps.writeNew(try ImageFile.encode(picture, path: overview), to: overview)
        print("overview: \(overview) (training images left, generated right, one row per run)")
    }
    if let measure { printLabelMeasure(measure) }
    print("report: \(out) (\(runs.count) run\(runs.count == 1 ? "" : "s"), \(grouped(html.utf8.count / 1024)) KiB)")
    return 0
}

/// The report may replace a page that rivers wrote (it carries the generator tag), never another file.
func checkReportTarget(_ out: String) throws {
    guard !out.isEmpty else { throw UsageError(description: "--out must not be empty") }
    guard FileManager.default.fileExists(atPath: out) else {
        let parent = (out as NSString).deletingLastPathComponent
        if !parent.isEmpty, let problem = FileOps.folderProblem(parent) { throw RiversError.file(path: parent, reason: problem) }
        return
    }
    if FileOps.isDirectory(out) { throw RiversError.file(path: out, reason: "is a folder; --out names the HTML file to write") }
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: out)).read(upToCount: 4096)) ?? nil
    guard let head, String(decoding: head, as: UTF8.self).contains(ReportPage.generatorTag) else {
        throw RiversError.file(path: out, reason: "exists and is not a page rivers report wrote; it is left alone (choose another --out)")
    }
}

/// The measure's table, whether the label 1 model makes less water than the label 3 model, and
/// how many label pairs the generated images keep in the order of the real ones.
func printLabelMeasure(_ measure: LabelMeasure) {
    print("label measure (the fraction of water-coloured pixels, mean ± sd (images)):")
    print(textTable(measure.table))
    let byLabel = Dictionary(uniqueKeysWithValues: measure.rows.map { ($0.label, $0) })
    if let low = byLabel[1], let high = byLabel[3], low.generated.count > 0, high.generated.count > 0 {
        let holds = low.generated.mean < high.generated.mean
        print(String(format: "label 1's model: water %.3f, label 3's model: %.3f: %@", low.generated.mean, high.generated.mean,
                     holds ? "less water at low flow, as in the real photos" : "NOT in the order of the real photos (train longer: this is not the demo's usual result)"))
    }
    let pairs = measure.orderedPairs
    print("label pairs whose real photos are in order of water: \(pairs.of); the generated images keep \(pairs.kept) of them in that order")
}
