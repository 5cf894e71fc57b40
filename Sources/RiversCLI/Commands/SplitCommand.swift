// `rivers split`: the raw photos into train and test folders before anything learns from them.
import Foundation
import Rivers

/// The raw dataset split reads and the folder it writes: given on the command line only.
struct SplitInputs: SettingGroup {
    var inDir = ""
    var outDir = ""
    static let name = "command line"
    static let settings: [Setting<SplitInputs>] = [
        Setting("in_dir", "raw dataset with label folders 1 .. 6", \.inDir, placeholder: "DIR", range: .nonEmpty),
        Setting(SharedSettings.outDir.help("a new or empty folder for train/, test/ and split.json"), \.outDir),
    ]
}

let splitCommand = Command(
    name: "split",
    abstract: "Split a raw dataset into train and test folders, whole groups at a time.",
    summary: """
        Splits a raw dataset (<in_dir>/1 .. /6) into <out_dir>/train/<label>/ and <out_dir>/test/<label>/,
        holding out --test_fraction of each label, and writes <out_dir>/split.json (every file's label,
        site, date, side and SHA-256). Files are hard-linked (copied across file systems); the originals
        are never written. A camera's photos of one date (the default unit, --by group) or of all dates
        (--by site) stay on one side, and so do identical files. balance, train and augment must read
        <out_dir>/train only; the classifier is evaluated on <out_dir>/test.
        """,
    options: SplitInputs.options(required: ["in_dir", "out_dir"]) + SplitConfig.options()
        + commonOptions(["config", "threads", "dry_run", "quiet"]),
    run: runSplit
)

func runSplit(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let inputs = try args.resolve(SplitInputs())
    let config = try section(args, \.split)
    let out = inputs.outDir
    try Split.checkFolders(inDir: inputs.inDir, outDir: out)
    Interrupt.install()
    let scan = try Split.scan(inDir: inputs.inDir) {
        ProgressBar(title: "hash", total: $0, unit: "file", enabled: !options.quiet)
    }
    if scan.interrupted {
        print("interrupted while reading the images; nothing was written.")
        return Interrupt.status
    }
    let plan = try Split.plan(scan, config: config)
    let state = try Split.checkOutput(plan, outDir: out)
    for path in state.extra {
        warn("\(path): not in the split's manifest (left alone; evaluate and training would read it)")
    }
    for skipped in scan.skipped { warn("\(skipped)") }
    for warning in plan.warnings { warn(warning) }
    print(splitTable(plan))
    if plan.duplicates > 0 { print("\(counted(plan.duplicates, "duplicate file")) kept on one side") }
    let sides = "(train: \(plan.trainCount), test: \(plan.testCount))"
    if options.dryRun {
        print(
            "dry run: \(counted(plan.manifest.entries.count, "file")) would be placed into \(out) \(sides), \(state.present.count) already present; nothing was written."
        )
        return 0
    }
    let progress = ProgressBar(
        title: "split", total: plan.manifest.entries.count, unit: "file", enabled: !options.quiet)
    let report = try Split.execute(plan, outDir: out, state: state, progress: progress)
    print(
        "\(counted(report.linked, "file")) linked, \(report.copied) copied, \(report.existing) already present into \(out) \(sides)"
    )
    if report.interrupted {
        print("interrupted: every file placed is complete; run the same command again to place the rest.")
        return Interrupt.status
    }
    let train = (out as NSString).appendingPathComponent(SplitManifest.train)
    let test = (out as NSString).appendingPathComponent(SplitManifest.test)
    print("balance, train and augment must use \(train) only; evaluate uses \(test).")
    return 0
}

/// Per label: images, train, test and (by group or site) the units holding them; then the unit.
func splitTable(_ plan: SplitPlan) -> String {
    let unit = plan.config.unit
    let units = unit == .group ? "groups" : "sites"
    var rows = [["label", "images", "train", "test"] + (unit == .image ? [] : [units])]
    for c in plan.labels {
        rows.append(
            [String(c.label), String(c.images), String(c.train), String(c.test)]
                + (unit == .image ? [] : [String(c.units)]))
    }
    rows.append(
        ["total", String(plan.manifest.entries.count), String(plan.trainCount), String(plan.testCount)]
            + (unit == .image ? [] : [String(plan.units)]))
    let what =
        switch unit {
        case .group:
            "group (a site's photos of one date; a name without a date is its own group): \(counted(plan.units, "group"))"
        case .image: "image: \(counted(plan.units, "image"))"
        case .site: "site (every photo of a camera): \(counted(plan.units, "site"))"
        }
    return textTable(rows, rightAligned: [1, 2, 3, 4])
        + "\nby \(what), test fraction \(formatNumber(plan.manifest.testFraction)), seed \(plan.manifest.seed)"
}
