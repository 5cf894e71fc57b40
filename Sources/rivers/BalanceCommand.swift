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
        Option(name: "out_dir", help: "where diffusion_data/ is written", value: "DIR", defaultValue: Defaults.balanceOutDir),
        Option(name: "labels", help: "3: labels 1-3; 6: labels 1-6", value: "N", defaultValue: format(Defaults.balance["labels"]!)),
        Option(name: "theta", help: "degrees added per rung", value: "DEG", defaultValue: format(Defaults.balance["theta"]!)),
        Option(name: "fact", help: "zoom of the first rung (rung k: fact + (k-1)(fact-1))", value: "X", defaultValue: format(Defaults.balance["fact"]!)),
        Option(name: "multiplier", help: "number of rungs (angles theta .. multiplier*theta)", value: "N", defaultValue: format(Defaults.balance["multiplier"]!)),
        Option(name: "seed", help: "seed of the shuffles", value: "N", defaultValue: format(Defaults.balance["seed"]!)),
        Option(name: "jpeg_quality", help: "quality of written JPEGs (1-100)", value: "Q", defaultValue: format(Defaults.balance["jpeg_quality"]!)),
        Option(name: "threads", help: "worker threads", value: "N", defaultValue: String(Parallel.threadCount)),
        Option(name: "dry_run", help: "print the plan and write nothing", arity: .flag),
        Option(name: "quiet", help: "no progress bar", arity: .flag),
    ],
    run: runBalance
)

func format(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }

func runBalance(_ args: ParsedArguments) throws -> Int32 {
    guard let seed = UInt64(args.string("seed") ?? "") else { throw UsageError(description: "--seed must be a non-negative whole number") }
    let options = BalanceOptions(inDir: args.string("in_dir")!, outDir: args.string("out_dir")!, labels: try args.int("labels"),
                                 theta: try args.double("theta"), fact: try args.double("fact"),
                                 multiplier: try args.int("multiplier"), seed: seed)
    try options.validate()
    Parallel.threadCount = max(1, try args.int("threads"))
    try Balance.checkFolders(options)
    let scan = try Balance.scan(inDir: options.inDir, labels: options.labels)
    for skipped in scan.ignored { warn("\(skipped)") }
    for bad in scan.unreadable { warn("\(bad)") }
    let plan = Balance.plan(scan: scan, options: options)
    if args.has("dry_run") {
        print(planTable(plan, report: nil))
        print("dry run: \(plan.totalImages) images would be written under \((options.outDir as NSString).appendingPathComponent("diffusion_data")); nothing was written.")
        return scan.unreadable.isEmpty ? 0 : 1
    }
    let progress = ProgressBar(title: "balance", total: plan.totalImages, enabled: !args.has("quiet"))
    let quality = try args.int("jpeg_quality")
    guard (1...100).contains(quality) else { throw UsageError(description: "--jpeg_quality must be 1 to 100, got \(quality)") }
    Interrupt.install()
    let report = try Balance.execute(plan, jpegQuality: quality, progress: progress)
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

func warn(_ message: String) {
    FileHandle.standardError.write("warning: \(message)\n".data(using: .utf8)!)
}
