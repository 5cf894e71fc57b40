// `rivers balance`: per-site balancing with the rotation/flip ladder.
import Foundation
import Rivers

let balanceCommand = Command(
    name: "balance",
    summary: """
    Balances every label folder of a raw dataset (<in_dir>/1 .. /6) across camera sites: the
    originals are copied to <out_dir>/diffusion_data/L<i>/<i>/, and every site smaller than the
    largest gets rotated and flipped-and-rotated copies until it matches or the ladder ends.
    """,
    options: [
        Option(name: "in_dir", help: "raw dataset with label folders 1, 2, ...", value: "DIR", required: true),
    ] + BalanceConfig.options() + [
        threadsOption,
        Option(name: "dry_run", help: "print the plan and write nothing", arity: .flag),
        quietOption,
    ],
    run: runBalance
)

func runBalance(_ args: ParsedArguments) throws -> Int32 {
    var config = BalanceConfig()
    try config.apply(args)
    try config.validate()
    let options = BalanceOptions(inDir: args.string("in_dir")!, config: config)
    try applyThreads(args)
    try Balance.checkFolders(options)
    let scan = try Balance.scan(inDir: options.inDir, labels: options.labels)
    for skipped in scan.ignored { warn("\(skipped)") }
    for bad in scan.unreadable { warn("\(bad)") }
    let plan = Balance.plan(scan: scan, options: options)
    for label in plan.labels {
        for (natural, aug) in label.renamed {
            note("\(label.inputDir)/\(aug.source): its augmentation \(natural) would take the name of another file; it is written as \(aug.output)")
        }
    }
    try Balance.checkLadder(options, write: !args.has("dry_run"))
    if args.has("dry_run") {
        print(planTable(plan, report: nil))
        print("dry run: \(plan.totalImages) images would be written under \((options.outDir as NSString).appendingPathComponent("diffusion_data")); nothing was written.")
        return scan.unreadable.isEmpty ? 0 : 1
    }
    let progress = ProgressBar(title: "balance", total: plan.totalImages, enabled: !args.has("quiet"))
    Interrupt.install()
    let report = try Balance.execute(plan, jpegQuality: config.jpegQuality, progress: progress)
    print(planTable(plan, report: report))
    print("\(report.written) images written, \(report.existing) already present, \(report.failures.count + scan.unreadable.count) failed.")
    let failures = scan.unreadable + report.failures
    if !failures.isEmpty {
        print("failed:")
        for f in failures { print("  \(f)") }
    }
    if report.interrupted {
        print("interrupted: every file written is complete; run the same command again to write the rest.")
        return 130
    }
    return failures.isEmpty ? 0 : 1
}

/// The per-label, per-site table of a plan.
func planTable(_ plan: BalancePlan, report: BalanceReport?) -> String {
    var rows = [["label", "site", "before", "added", "after", "note"]]
    for label in plan.labels {
        for site in label.sites {
            rows.append([String(label.label), site.site, String(site.before), String(site.added), String(site.after),
                         site.capped ? "capped (ladder ended below \(label.target))" : ""])
        }
    }
    let widths = (0..<6).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in c == 1 || c == 5 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
