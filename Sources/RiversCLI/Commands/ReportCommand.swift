// `rivers report`: one HTML page that shows trained runs (and a dataset) without opening files.
import Foundation
import Rivers

/// The runs and dataset the report shows: given on the command line only.
struct ReportInputs: SettingGroup {
    var modelDirs: [String] = []
    var dataset: String? = nil
    var overview: String? = nil
    var evaluation: String? = nil

    static let name = "command line"
    static let settings: [Setting<ReportInputs>] = [
        Setting(
            "model_dir",
            "run directories of rivers train, or folders holding them (such as models/); optional with --dataset or --evaluation",
            \.modelDirs,
            placeholder: "RUN", range: .nonEmptyPaths),
        Setting(
            "dataset", "a working folder with raw/ (or 1..6), diffusion_data/ and balanced_data/", \.dataset,
            placeholder: "DIR", range: .nonEmpty),
        Setting(
            "evaluation", "the results file of rivers evaluate, shown at the top", \.evaluation, placeholder: "FILE",
            range: .nonEmpty),
        Setting(
            "overview", "also write a PNG of each run's training images beside its generated ones (a new file)",
            \.overview,
            placeholder: "FILE", range: .nonEmpty),
    ]
}

let reportCommand = Command(
    name: "report",
    abstract: "Write one HTML page about trained runs and a dataset.",
    summary: """
        Writes one self-contained HTML page (images embedded, no network needed) about trained runs: per run
        the loss curves, the sample grids over the epochs, generated images beside real images of its label
        and the memorization check's nearest pairs; with --dataset, images per label and site before balance,
        after balance and after augment, as tables and bar charts; with --evaluation, the classifier's answer
        first. Paths on the page are relative to its folder, and each image links to its file there (at its
        own size). Replaces only a page it wrote itself.
        """,
    options: ReportInputs.options(["model_dir", "dataset", "evaluation"])
        + commonOptions(["config"])
        + ReportConfig.options()
        + ReportInputs.options(["overview"]) + commonOptions(["quiet"]),
    run: runReport
)

func runReport(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(ReportInputs())
    let settings = try section(args, \.report)
    guard !inputs.modelDirs.isEmpty || inputs.evaluation != nil || inputs.dataset != nil else {
        throw RiversError.usage("report needs --model_dir, --dataset or --evaluation: something to show")
    }
    let paths = try RunSummary.expand(inputs.modelDirs)
    let out = settings.out
    // Everything that can be known is checked before anything is written: a refusal leaves no file.
    try checkReportTarget(out)
    if let overview = inputs.overview { try checkOverviewTarget(overview, page: out) }
    let dataset = try inputs.dataset.map { try DatasetCounts.read($0) }
    let evaluation = try inputs.evaluation.map { try EvaluationResult.read($0) }
    let bar = ProgressBar(title: "reading runs", total: paths.count, unit: "run", enabled: !options.quiet)
    let runs = try RunSummary.loadAll(paths) { bar.advance() }
    bar.finish()
    for run in runs { if let problem = run.logProblem { warn(problem) } }
    let measure = settings.labelMeasure ? LabelMeasure(runs) : nil
    var page = ReportPage(runs: runs, dataset: dataset, labelMeasure: measure)
    page.title = settings.title
    page.evaluation = evaluation
    page.pageFolder = folderOf(out)
    let html = try page.html()
    let picture: Data? = try inputs.overview.map { overview in
        guard let image = ReportPage.overview(runs) else {
            throw RiversError.file(
                path: overview,
                reason: "cannot be made: no run has both training images and generated images; nothing was written")
        }
        return try ImageFile.encode(image, path: overview)
    }
    // What a killed report left in the folders it writes (hidden temporaries of dead processes).
    for folder in Set(([out] + (inputs.overview.map { [$0] } ?? [])).map { folderOf($0) }) {
        FileOps.removeStaleTemporaries(in: folder)
    }
    // The overview first: it is a new file, so if the page cannot be written it is removed again
    // and the command fails with nothing written.
    if let overview = inputs.overview, let picture {
        try FileOps.writeNew(picture, to: overview)
        do {
            try FileOps.replaceAtomically(Data(html.utf8), at: out)
        } catch {
            unlink(overview)
            throw error
        }
        print("overview: \(overview) (training images left, generated right, one row per run)")
    } else {
        try FileOps.replaceAtomically(Data(html.utf8), at: out)
    }
    if let measure { printLabelMeasure(measure) }
    print("report: \(out) (\(counted(runs.count, "run")), \(grouped(html.utf8.count / 1024)) KiB)")
    return 0
}

/// The folder a file is written into ("." for a bare name).
func folderOf(_ path: String) -> String {
    let parent = FileOps.parent(path)
    return parent.isEmpty ? "." : parent
}

/// --overview writes a new PNG or JPEG file into an existing folder, and never the page itself.
func checkOverviewTarget(_ overview: String, page out: String) throws {
    if FileOps.canonicalPath(overview) == FileOps.canonicalPath(out) {
        throw RiversError.usage("--overview and --out name the same file (\(overview)); give the picture its own name")
    }
    guard ImageFormat(pathExtension: (overview as NSString).pathExtension) != nil else {
        throw RiversError.usage("--overview must name a .png or .jpg file, got \(overview)")
    }
    if FileManager.default.fileExists(atPath: overview)
        || (try? FileManager.default.destinationOfSymbolicLink(atPath: overview)) != nil
    {
        throw RiversError.file(path: overview, reason: "already exists; --overview writes a new file")
    }
    let parent = FileOps.parent(overview)
    if !parent.isEmpty, let problem = FileOps.folderProblem(parent) {
        throw RiversError.file(path: parent, reason: "\(problem) (the folder of --overview)")
    }
}

/// The report may replace a page that rivers wrote (it carries the generator tag), never another file.
func checkReportTarget(_ out: String) throws {
    guard FileManager.default.fileExists(atPath: out) else {
        let parent = FileOps.parent(out)
        if !parent.isEmpty, let problem = FileOps.folderProblem(parent) {
            throw RiversError.file(path: parent, reason: problem)
        }
        return
    }
    if FileOps.isDirectory(out) {
        throw RiversError.file(path: out, reason: "is a folder; --out names the HTML file to write")
    }
    let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: out)).read(upToCount: 4096)) ?? nil
    guard let head, String(decoding: head, as: UTF8.self).contains(ReportPage.generatorTag) else {
        throw RiversError.file(
            path: out, reason: "exists and is not a page rivers report wrote; it is left alone (choose another --out)")
    }
}

/// The measure's table, whether the label 1 model makes less water than the label 3 model, and
/// how many label pairs the generated images keep in the order of the real ones.
func printLabelMeasure(_ measure: LabelMeasure) {
    print("label measure (the fraction of water-colored pixels, mean ± sd (images)):")
    print(textTable(measure.table))
    let byLabel = Dictionary(uniqueKeysWithValues: measure.rows.map { ($0.label, $0) })
    if let low = byLabel[1], let high = byLabel[3], low.generated.count > 0, high.generated.count > 0 {
        let holds = low.generated.mean < high.generated.mean
        print(
            String(
                format: "label 1's model: water %.3f, label 3's model: %.3f: %@", low.generated.mean,
                high.generated.mean,
                holds
                    ? "less water at low flow, as in the real photos"
                    : "NOT in the order of the real photos (train longer: this is not the demo's usual result)"))
    }
    let pairs = measure.orderedPairs
    print(
        "label pairs whose real photos are in order of water: \(pairs.of); the generated images keep \(pairs.kept) of them in that order"
    )
}
