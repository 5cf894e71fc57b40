// `rivers demo`, step two: runs the plan's commands in order through an executor the command
// line gives (so each step is exactly the command a user would type), with the overall
// progress and an estimate of the time left.
import Foundation

public struct DemoRun {
    public let plan: DemoPlan
    public let quiet: Bool
    /// Runs one command line (its words without `rivers`) and returns its exit status.
    let execute: ([String]) throws -> Int32
    /// Where the demo's own lines go.
    let say: (String) -> Void
    let started = Date()
    /// Estimated seconds of the commands still to run, once training is planned; the estimate
    /// is scaled by how the finished commands compared with theirs.
    var remaining: [Double] = []
    var estimatedDone = 0.0, actualDone = 0.0
    let stages = ["synthesize", "split", "balance", "train", "infer", "augment", "evaluate", "report"]

    public init(
        plan: DemoPlan, quiet: Bool,
        say: @escaping (String) -> Void = {
            print($0); fflush(stdout)
        },
        execute: @escaping ([String]) throws -> Int32
    ) {
        self.plan = plan
        self.quiet = quiet
        self.say = say
        self.execute = execute
    }

    /// Runs every step; the status of the first that fails (130 when interrupted), else 0.
    public mutating func run() throws -> Int32 {
        say(
            "rivers demo: the whole pipeline on synthetic stream photos, into \(plan.outDir)\(plan.quick ? " (quick: tiny models, a check that everything runs; their \(plan.upscaleText), so the quick classifier data is no test of quality)" : "")"
        )
        var status = try step(
            plan.synthesizeArguments, stage: "synthesize",
            what: "\(40 * plan.copies) photos of 6 camera sites at flow labels 1-6, over \(counted(plan.copies, "day"))"
        )
        if status != 0 { return stop(status, "synthesize") }
        status = try step(
            plan.splitArguments, stage: "split",
            what: "a fifth of the photos held out by camera and day, for evaluate; everything else sees the rest only")
        if status != 0 { return stop(status, "split") }
        status = try step(
            plan.balanceArguments, stage: "balance", what: "rotations and flips even out the sites within each label")
        if status != 0 { return stop(status, "balance") }

        let folders = try TrainingPlan.labelFolders(plan.diffusionDir)
        var trainSteps: [(label: Int, words: [String], seconds: Double)] = []
        var secondsPerStep = 0.0
        for (label, path) in folders {
            let images = try TrainingImages.scan(path).images.count
            let config = plan.trainConfig(images: images)
            if secondsPerStep == 0 {
                secondsPerStep =
                    (try? TrainingPlan(config: config, label: label, inDir: path, images: images).measureStep().seconds)
                    ?? 0.1
            }
            let perImageStep = secondsPerStep / Double(3 * config.batchSize)
            let generation =
                Double((plan.gridsPerRun + 1) * config.imagesToGenerate * config.generateDiffusionSteps) * perImageStep
            trainSteps.append(
                (
                    label, plan.trainArguments(folder: path, images: images),
                    Double(config.numEpochs * max(images / config.batchSize, 1)) * secondsPerStep + generation
                ))
        }
        let perImageStep = secondsPerStep / Double(3 * plan.train.batchSize)
        // Training photos per label (the generated-only arm gets as many generated images).
        let photos = try LabelledFiles.scan(plan.trainDir).counts
        let inferSeconds = folders.map {
            Double(min(plan.inferImages, photos[$0.label - 1]) * plan.inferSteps) * perImageStep
        }
        // Augment evens out the categories: about their difference in images.
        let missing = abs(photos[0..<3].reduce(0, +) - photos[3..<6].reduce(0, +))
        let evaluation =
            Double(plan.evaluate.seeds * 4 + 1) * Double(plan.evaluate.steps)
            * ((try? EvaluatePlan.measureStep(plan.evaluate)) ?? 0.05)
        remaining =
            trainSteps.map(\.seconds) + inferSeconds
            + [Double(max(missing, 6) * plan.augmentSteps) * perImageStep, evaluation, 2]
        for (i, t) in trainSteps.enumerated() {
            status = try step(t.words, stage: "train", what: "label \(t.label) (\(i + 1) of \(trainSteps.count))")
            if status != 0 { return stop(status, "train, label \(t.label)") }
        }

        let runs = try RunSummary.expand([plan.modelsDir]).map { ($0, try RunDirectory($0).record().label) }.sorted {
            $0.1 < $1.1
        }
        for (i, (run, label)) in runs.enumerated() {
            status = try step(
                plan.inferArguments(run: run, label: label, photos: photos[label - 1]), stage: "infer",
                what: "label \(label) (\(i + 1) of \(runs.count)): as many generated images as training photos")
            if status != 0 { return stop(status, "infer, label \(label)") }
        }
        status = try step(
            plan.augmentArguments(runs: runs.map(\.0)), stage: "augment",
            what: "generated images even out the two categories"
                + (plan.allowsUpscale ? " (the quick models' \(plan.upscaleText): --allow_upscale)" : ""))
        if status != 0 { return stop(status, "augment") }
        status = try step(
            plan.evaluateArguments, stage: "evaluate",
            what: "does it help? one classifier per training set and seed, tested on the held-out photos")
        if status != 0 { return stop(status, "evaluate") }
        status = try step(plan.reportArguments, stage: "report", what: "one page to look at")
        if status != 0 { return stop(status, "report") }

        say(
            "demo finished in \(ProgressBar.clock(Date().timeIntervalSince(started))); open \(plan.reportPath) in a browser"
        )
        return 0
    }

    /// Prints the overall progress line and the command, then runs it as `rivers` would.
    mutating func step(_ words: [String], stage: String, what: String) throws -> Int32 {
        let elapsed = Date().timeIntervalSince(started)
        var line =
            "\n== demo \(stages.firstIndex(of: stage)! + 1)/\(stages.count) \(stage): \(what) · \(ProgressBar.clock(elapsed)) elapsed"
        if !remaining.isEmpty {
            let scale = estimatedDone > 0 ? actualDone / estimatedDone : 1
            line += " · about \(ProgressBar.clock(remaining.reduce(0, +) * scale)) left"
        }
        say(line)
        say("$ " + DemoPlan.shellLine(words))
        let commandStarted = Date()
        let status = try execute(words + (quiet && words[0] != "synthesize" ? ["--quiet"] : []))
        fflush(stdout)
        if !remaining.isEmpty {
            estimatedDone += remaining.removeFirst()
            actualDone += Date().timeIntervalSince(commandStarted)
        }
        return Interrupt.requested && status == 0 ? Interrupt.status : status
    }

    func stop(_ status: Int32, _ stage: String) -> Int32 {
        if Interrupt.isInterruption(status) {
            say(
                "demo interrupted during \(stage); what was made so far is in \(plan.outDir) (a new demo needs a new or empty folder)"
            )
        } else {
            FileHandle.standardError.write(
                "rivers: error: the demo stopped: \(stage) failed (status \(status)); see above\n".data(using: .utf8)!)
        }
        return status
    }
}
