// `rivers balance`: per-site balancing with the rotation/flip ladder.
import Foundation
import Rivers

/// The raw dataset balance reads: given on the command line only.
struct BalanceInputs: SettingGroup {
    var inDir = ""
    static let name = "command line"
    static let settings: [Setting<BalanceInputs>] = [
        Setting("in_dir", "raw dataset with label folders 1, 2, ...", \.inDir, placeholder: "DIR", range: .nonEmpty)
    ]
}

let balanceCommand = Command(
    name: "balance",
    abstract: "Balance each label's camera sites with rotated and flipped copies.",
    summary: """
        Balances every label folder of a raw dataset (<in_dir>/1 .. /6) across camera sites: the
        originals are copied to <out_dir>/diffusion_data/L<i>/<i>/, and every site smaller than the
        largest gets rotated and flipped-and-rotated copies until it matches or the ladder ends.
        """,
    options: BalanceInputs.options(required: ["in_dir"]) + BalanceConfig.options()
        + commonOptions(["config", "threads", "dry_run", "quiet"]),
    run: runBalance
)

func runBalance(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let job = BalanceJob(inDir: try args.resolve(BalanceInputs()).inDir, config: try section(args, \.balance))
    try Balance.checkFolders(job)
    let scan = try Balance.scan(inDir: job.inDir, labels: job.labels)
    for skipped in scan.ignored { warn("\(skipped)") }
    for bad in scan.unreadable { warn("\(bad)") }
    let plan = Balance.plan(scan: scan, options: job)
    for label in plan.labels {
        for (natural, copy) in label.renamed {
            note(
                "\(label.inputDir)/\(copy.source): its rotated copy \(natural) would take the name of another file; it is written as \(copy.output)"
            )
        }
    }
    try Balance.checkLadder(job, write: !options.dryRun)
    if options.dryRun {
        print(planTable(plan, report: nil))
        print(
            "dry run: \(counted(plan.totalImages, "image")) would be written under \((job.outDir as NSString).appendingPathComponent("diffusion_data")); nothing was written."
        )
        return scan.unreadable.isEmpty ? 0 : 1
    }
    let progress = ProgressBar(title: "balance", total: plan.totalImages, enabled: !options.quiet)
    Interrupt.install()
    let report = try Balance.execute(plan, jpegQuality: job.jpegQuality, progress: progress)
    print(planTable(plan, report: report))
    print(
        "\(counted(report.written, "image")) written, \(report.existing) already present, \(report.failures.count + scan.unreadable.count) failed."
    )
    let failures = scan.unreadable + report.failures
    if !failures.isEmpty {
        print("failed:")
        for f in failures { print("  \(f)") }
    }
    if report.interrupted {
        print("interrupted: every file written is complete; run the same command again to write the rest.")
        return Interrupt.status
    }
    return failures.isEmpty ? 0 : 1
}

/// The per-label, per-site table of a plan.
func planTable(_ plan: BalancePlan, report: BalanceReport?) -> String {
    var rows = [["label", "site", "before", "added", "after", "note"]]
    for label in plan.labels {
        for site in label.sites {
            rows.append([
                String(label.label), site.site, String(site.before), String(site.added), String(site.after),
                site.capped ? "capped (ladder ended below \(label.target))" : "",
            ])
        }
    }
    return textTable(rows, rightAligned: [0, 2, 3, 4])
}
