// `rivers demo`: the whole pipeline on built-in synthetic data, one printed command at a time,
// ending with report.html.
import Foundation
import Rivers

let demoCommand = Command(
    name: "demo",
    abstract: "Run the whole pipeline on built-in synthetic photos and write report.html.",
    summary: """
        Runs the whole pipeline on built-in synthetic stream photos, into a new folder: synthesize -> split (a
        fifth held out) -> balance -> train (one small model per label) -> infer -> augment -> evaluate (does
        augmenting help the classifier on the held-out photos?) -> report. Each step is the rivers command it
        prints, so the demo shows how to use them. About 13 minutes on 2 cores; --quick takes seconds (a check
        that everything runs, not a trained model). Ends with the evaluation's verdict and report.html.
        """,
    options: commonOptions(["config"]) + DemoConfig.options() + commonOptions(["threads"])
        + commonOptions(["quiet"]).map {
            $0.help("no progress bars (the commands and their results are still printed)")
        },
    run: runDemo
)

/// The commands the demo runs, by name, exactly as `rivers` would run them.
let demoSteps = [
    synthesizeCommand, splitCommand, balanceCommand, trainCommand, inferCommand, augmentCommand, evaluateCommand,
    reportCommand,
]

func runDemo(_ args: ParsedArguments) throws -> Int32 {
    let options = try common(args)
    let settings = try section(args, \.demo)
    try DemoPlan.checkFolder(settings.outDir)
    let plan = DemoPlan(
        outDir: settings.outDir, seed: settings.seed, quick: settings.quick, threads: Parallel.threadCount,
        steps: settings.steps)
    Interrupt.install()
    var demo = DemoRun(plan: plan, quiet: options.quiet) { words in
        guard let command = demoSteps.first(where: { $0.name == words[0] }) else {
            throw RiversError.usage("the demo has no step '\(words[0])'")
        }
        return try command.run(try command.parse(Array(words.dropFirst())))
    }
    return try demo.run()
}
