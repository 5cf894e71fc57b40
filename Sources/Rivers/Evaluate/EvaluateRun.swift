// `rivers evaluate` as a plan and a run: the same classifier trained on each training set (arm)
// with the same seeds and steps, tested on the same held-out real photos; a label-shuffled
// control; metrics, intervals, paired verdicts against the first arm, and Frechet distances.
import Foundation

/// What evaluate will do, before any training: the sets, their counts, and the work.
public struct EvaluatePlan: Sendable {
    public struct Arm: Sendable {
        public let name: String
        public let files: LabelledFiles
        /// Files whose name is a generated image's (rivers infer, augment).
        public let generated: Int
        /// Every image generated: the Classification Accuracy Score arm.
        public var syntheticOnly: Bool { generated == files.files.count }
    }
    public let config: EvaluateConfig
    public let test: LabelledFiles
    /// The arms; the first is the reference (the real training photos) every other is compared with.
    public let arms: [Arm]

    /// What the run can do but the user should know: labels an arm or the test set lacks, one
    /// folder given twice, a control that cannot fail with so few test photos.
    public var warnings: [String] {
        var out: [String] = []
        let tested = test.counts
        for label in 1...6 where tested[label - 1] == 0 {
            out.append("\(test.dir) has no test photos of label \(label): the scores average over the other labels")
        }
        for arm in arms.dropFirst() {
            let missing = (1...6).filter { tested[$0 - 1] > 0 && arm.files.counts[$0 - 1] == 0 }
            if !missing.isEmpty {
                out.append(
                    "'\(arm.name)' has no images of label \(missing.map(String.init).joined(separator: ", ")), which the test photos have: its classifiers cannot predict them"
                )
            }
        }
        for (i, arm) in arms.enumerated() {
            if let first = arms[..<i].first(where: {
                FileOps.canonicalPath($0.files.dir) == FileOps.canonicalPath(arm.files.dir)
            }) {
                out.append("'\(arm.name)' and '\(first.name)' are the same folder \(arm.files.dir)")
            }
        }
        let present = tested.filter { $0 > 0 }
        let band = ConfusionMatrix.chanceBand(classes: present.count, testCounts: present)
        if band.upperBound >= 1 {
            out.append(
                "with \(counted(test.files.count, "test photo")) the label-shuffled control cannot fail (chance band \(percent(band.lowerBound)) to \(percent(band.upperBound))): hold out more photos"
            )
        }
        return out
    }

    /// Classifier runs: every arm at every seed, and the shuffled-label control.
    public var runs: Int { arms.count * config.seeds + 1 }
    public var totalSteps: Int { runs * config.steps }

    /// Scans the test folder and the arms' folders; names default to the folders' names. Refuses
    /// an arm that is the test folder, names given in another number than folders, two arms of
    /// one name, a label with test photos that the reference arm lacks, and any leak it can see
    /// without decoding (content and names; pixels are checked after decoding).
    public static func make(config: EvaluateConfig, testDir: String, trainDirs: [String], names: [String]?) throws
        -> EvaluatePlan
    {
        if let names, names.count != trainDirs.count {
            throw RiversError.setting(
                section: "evaluate", key: "names",
                reason:
                    "gives \(counted(names.count, "name")) for \(counted(trainDirs.count, "training folder")): one name per folder",
                file: nil)
        }
        let test = try LabelledFiles.scan(testDir)
        let testPhotos = Leakage.TestPhotos(test.files.map(\.path))
        var arms: [Arm] = []
        for (i, dir) in trainDirs.enumerated() {
            if FileOps.isSameOrInside(dir, testDir) || FileOps.isSameOrInside(testDir, dir) {
                throw RiversError.setting(
                    section: "evaluate", key: "train_dirs",
                    reason: "\(dir) is, holds or lies in the test folder \(testDir): train and test must be apart",
                    file: nil)
            }
            let name = names?[i] ?? defaultName(dir)
            if arms.contains(where: { $0.name == name }) {
                throw RiversError.setting(
                    section: "evaluate", key: "names",
                    reason: "has '\(name)' twice: give each training folder its own name (--names)", file: nil)
            }
            let files = try LabelledFiles.scan(dir)
            let generated = files.files.filter {
                GeneratedNames.identity(of: ($0.path as NSString).lastPathComponent) != nil
            }.count
            try Leakage.check(train: files.files.map(\.path), against: testPhotos, arm: name)
            arms.append(Arm(name: name, files: files, generated: generated))
        }
        let reference = arms[0].files.counts, tested = test.counts
        for label in 1...6 where tested[label - 1] > 0 && reference[label - 1] == 0 {
            throw RiversError.file(
                path: arms[0].files.dir,
                reason:
                    "has no images of label \(label), which the test folder has (\(tested[label - 1])): the reference arm needs every tested label"
            )
        }
        return EvaluatePlan(config: config, test: test, arms: arms)
    }

    /// A folder's name, or its parent's and its own when the name is generic (`train`, `1`).
    static func defaultName(_ dir: String) -> String {
        let url = URL(fileURLWithPath: dir).standardized
        let last = url.lastPathComponent
        let parent = url.deletingLastPathComponent().lastPathComponent
        return ["train", "data", "images", "diffusion_data", "balanced_data"].contains(last) && !parent.isEmpty
            && parent != "/" ? "\(parent)/\(last)" : last
    }

    /// Bytes the evaluation needs at once: every set's images decoded at the classifier's size,
    /// and one classifier training (its activations twice over, for the kernels' scratch, the
    /// batch of floats, the parameters with their gradient and moments).
    public var plannedBytes: Int {
        let images = test.files.count + arms.reduce(0) { $0 + $1.files.files.count }
        let network = config.classifier(classes: 6)
        let batch = config.batchSize * config.height * config.width * 3 * 4
        return images * config.height * config.width * 3 + 2
            * ClassifierWorkspace.plannedBytes(
                network, batch: config.batchSize) + 2 * batch + 4 * 5 * 300_000
    }

    /// Refuses settings whose memory would not fit in what this machine has available.
    public func checkMemory(available: Int = ResourceUsage.availableBytes()) throws {
        guard plannedBytes <= available else {
            throw RiversError.setting(
                section: "evaluate", key: "image_size",
                reason:
                    "\(config.height) \(config.width) with batches of \(config.batchSize) and \(test.files.count + arms.reduce(0) { $0 + $1.files.files.count }) images needs about \(mebibytes(plannedBytes)), more than the \(mebibytes(available)) available: lower --image_size or --batch_size",
                file: nil)
        }
    }

    /// Seconds of one classifier step at these settings, measured on this machine (one warm-up
    /// step, then the mean of two).
    public static func measureStep(_ settings: EvaluateConfig) throws -> Double {
        var recipe = settings.recipe
        recipe.steps = 3
        let network = settings.classifier(classes: 6)
        let count = recipe.batchSize
        let pixels = [UInt8](repeating: 128, count: count * network.height * network.width * 3)
        let images = TrainingImages(
            height: network.height, width: network.width, paths: (0..<count).map { "\($0)" }, pixels: pixels)
        let data = LabelledImages(images: images, classes: (0..<count).map { $0 % 6 })
        let trainer = try ClassifierTrainer(
            config: network, recipe: recipe, normalizer: Normalizer(), seed: settings.seed)
        trainer.step(data)
        let start = Date()
        trainer.step(data)
        trainer.step(data)
        return Date().timeIntervalSince(start) / 2
    }

    /// Seconds the whole evaluation takes, from a measured step: the training steps, and the
    /// predictions (a forward pass, a third of a step per image) on the test and training images.
    public func estimatedSeconds(secondsPerStep: Double) -> Double {
        let images = Double(test.files.count + arms.reduce(0) { $0 + $1.files.files.count }) * Double(config.seeds)
        return secondsPerStep * (Double(totalSteps) + images / Double(3 * config.batchSize))
    }

    /// The derived seed of run s (0-based) of every arm.
    public func runSeed(_ s: Int) -> UInt64 {
        var g = SeededGenerator(seed: config.seed, stream: ["evaluate run", String(s)])
        return g.next()
    }

    /// The seed that permutes the reference arm's labels for the control.
    public var controlSeed: UInt64 {
        var g = SeededGenerator(seed: config.seed, stream: ["evaluate control"])
        return g.next()
    }
}

/// The metrics of one classifier on the test photos, for one task.
public struct TaskScores: Codable, Equatable, Sendable {
    enum CodingKeys: String, CodingKey {
        case accuracy, balancedAccuracy = "balanced_accuracy", macroF1 = "macro_f1", recall, confusion
    }

    public var accuracy: Double
    public var balancedAccuracy: Double
    public var macroF1: Double
    /// Per class; nil for a class without test photos.
    public var recall: [Double?]
    /// Rows: true class; columns: predicted.
    public var confusion: [[Int]]

    public init(_ m: ConfusionMatrix) {
        accuracy = m.accuracy; balancedAccuracy = m.balancedAccuracy; macroF1 = m.macroF1
        recall = m.recall; confusion = m.counts
    }
}

/// One trained classifier of one arm.
public struct RunScores: Codable, Equatable, Sendable {
    enum CodingKeys: String, CodingKey {
        case seed, labels, categories, trainAccuracy = "train_accuracy", finalLoss = "final_loss"
    }

    public var seed: UInt64
    public var labels: TaskScores
    public var categories: TaskScores
    /// Accuracy on the arm's own training images (no flips).
    public var trainAccuracy: Double
    public var finalLoss: Double
}

/// An arm's results: every run, the intervals over seeds, and the comparison with the reference.
public struct ArmResult: Codable, Sendable {
    enum CodingKeys: String, CodingKey {
        case name, dir, counts, generated, runs, balancedAccuracy = "balanced_accuracy", accuracy, macroF1 = "macro_f1",
            categoryBalancedAccuracy = "category_balanced_accuracy", categoryAccuracy = "category_accuracy",
            trainAccuracy = "train_accuracy", recall, versusReference = "versus_reference", categoryVersusReference =
            "category_versus_reference"
    }

    public var name: String
    public var dir: String
    /// Training images per label 1 ... 6, and how many of them are generated.
    public var counts: [Int]
    public var generated: Int
    public var runs: [RunScores]
    public var balancedAccuracy: MeanInterval
    public var accuracy: MeanInterval
    public var macroF1: MeanInterval
    public var categoryBalancedAccuracy: MeanInterval
    public var categoryAccuracy: MeanInterval
    public var trainAccuracy: MeanInterval
    /// Mean recall per label over the runs (nil for a label without test photos).
    public var recall: [Double?]
    /// Against the first arm (nil for the first arm itself), on balanced accuracy.
    public var versusReference: PairedComparison?
    public var categoryVersusReference: PairedComparison?
}

/// The label-shuffled control: the reference arm with its labels permuted.
public struct ControlResult: Codable, Sendable {
    enum CodingKeys: String, CodingKey {
        case balancedAccuracy = "balanced_accuracy", low, high, passed
    }

    public var balancedAccuracy: Double
    /// Where chance lies for these test counts (EVALUATE.md section 5).
    public var low: Double, high: Double
    public var passed: Bool
}

/// The Frechet distance (and KID) of one set of images of one label to that label's test photos,
/// in the reference classifier's pooled features.
public struct DistanceRow: Codable, Sendable {
    public var label: Int
    /// "real train" (the floor), "generated" (pure generations) or "variation".
    public var kind: String
    /// Images per side (the larger side is subsampled to the smaller's count).
    public var count: Int
    public var frechet: Double?
    public var kid: Double?
}

/// Everything `rivers evaluate` measured, as written to its JSON file.
public struct EvaluationResult: Codable, Sendable {
    enum CodingKeys: String, CodingKey {
        case version, date, testDir = "test_dir", testCounts = "test_counts", settings, control, arms, distances,
            seconds
    }

    public var version = 1
    public var date: String
    public var testDir: String
    public var testCounts: [Int]
    public var settings: EvaluateConfig
    public var control: ControlResult
    public var arms: [ArmResult]
    public var distances: [DistanceRow]
    public var seconds: Double

    /// The arm of generated images only, if any: the Classification Accuracy Score.
    public var casArm: ArmResult? {
        arms.dropFirst().first { $0.generated > 0 && $0.generated == $0.counts.reduce(0, +) }
    }

    /// Why these results could not have come from `rivers evaluate` (so that nothing that reads
    /// them indexes out of range or overflows), or nil.
    public var problem: String? {
        // Counts up to 10^9: sums over seeds and labels stay far from overflow.
        func counts(_ c: [Int], _ n: Int) -> Bool { c.count == n && c.allSatisfy { (0...1_000_000_000).contains($0) } }
        func matrix(_ m: [[Int]], _ n: Int) -> Bool { m.count == n && m.allSatisfy { counts($0, n) } }
        guard !arms.isEmpty else { return "it has no training sets" }
        guard counts(testCounts, 6) else { return "test_counts is not 6 counts" }
        for a in arms {
            guard counts(a.counts, 6), a.recall.count == 6, !a.runs.isEmpty, a.runs.count <= 100,
                a.runs.allSatisfy({ matrix($0.labels.confusion, 6) && matrix($0.categories.confusion, 2) })
            else {
                return "training set '\(a.name)' is not 6 labels' counts with runs of 6x6 and 2x2 confusion matrices"
            }
        }
        guard distances.allSatisfy({ (1...6).contains($0.label) }) else { return "a distance has no label 1 to 6" }
        return nil
    }

    public static func read(_ path: String) throws -> EvaluationResult {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason =
                FileOps.isDirectory(path)
                ? "is a folder, not the results file of rivers evaluate"
                : FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw RiversError.file(path: path, reason: reason)
        }
        do {
            let result = try JSONDecoder().decode(EvaluationResult.self, from: data)
            if let problem = result.problem {
                throw RiversError.file(path: path, reason: "is not an evaluation of rivers evaluate: \(problem)")
            }
            return result
        } catch let e as RiversError {
            throw e
        } catch {
            if (try? JSONSerialization.jsonObject(with: data)) == nil {
                throw RiversError.file(path: path, reason: "is not valid JSON")
            }
            throw RiversError.file(path: path, reason: "is not an evaluation of rivers evaluate")
        }
    }
}

/// Step two of evaluate: decode, check, train every classifier, measure.
public struct EvaluateRun {
    public let plan: EvaluatePlan
    /// Called with each notice (skipped files, the control's result).
    let say: (String) -> Void

    public init(plan: EvaluatePlan, say: @escaping (String) -> Void) {
        self.plan = plan
        self.say = say
    }

    static let categoryGroups = [[0, 1, 2], [3, 4, 5]]

    /// The category (0: labels 1-3, 1: labels 4-6) of each class.
    static func category(_ classes: [Int]) -> [Int] { classes.map { $0 < 3 ? 0 : 1 } }

    /// The predicted labels (argmax) and categories (argmax of the probabilities summed per
    /// category) of probabilities [n, 6].
    static func predictions(_ probabilities: [Float]) -> (labels: [Int], categories: [Int]) {
        let labels = (0..<(probabilities.count / 6)).map { i in
            var best = 0
            for k in 1..<6 where probabilities[i * 6 + k] > probabilities[i * 6 + best] { best = k }
            return best
        }
        let categories = ConfusionMatrix.categoryPredictions(
            probabilities: probabilities, classes: 6, groups: categoryGroups)
        return (labels, categories)
    }

    /// Scores of probabilities [n, 6] against the test classes, for the labels and the categories.
    static func scores(_ probabilities: [Float], truth: [Int]) -> (TaskScores, TaskScores) {
        let (labels, categories) = predictions(probabilities)
        return (
            TaskScores(ConfusionMatrix(truth: truth, predicted: labels, classes: 6)),
            TaskScores(ConfusionMatrix(truth: category(truth), predicted: categories, classes: 2))
        )
    }

    /// Trains and measures everything; nil when interrupted. Throws when the control is not at
    /// chance (a leak or a bug), or a leak shows in the decoded pixels.
    public func execute(progress: ProgressBar?, shouldStop: @escaping () -> Bool) throws -> EvaluationResult? {
        let started = Date()
        let config = plan.config
        let (test, testFailures) = plan.test.load(height: config.height, width: config.width)
        for f in testFailures { say("skipped: \(f)") }
        guard test.count > 0 else { throw RiversError.file(path: plan.test.dir, reason: "has no readable test photo") }
        let testPixels = Leakage.TestPhotos([], pixels: test.pixelHashes())
        var sets: [LabelledImages] = []
        for arm in plan.arms {
            let (set, failures) = arm.files.load(height: config.height, width: config.width)
            for f in failures { say("skipped: \(f)") }
            guard set.count > 0 else {
                throw RiversError.file(path: arm.files.dir, reason: "has no readable training image")
            }
            try Leakage.check(train: [], trainPixels: set.pixelHashes(), against: testPixels, arm: arm.name)
            sets.append(set)
        }
        say(
            "leak check: none of the \(counted(sets.reduce(0) { $0 + $1.count }, "training image")) has the content, the name or the pixels of one of the \(counted(test.count, "test photo"))"
        )
        // Every arm is normalized with the real training photos' statistics.
        let normalizer = sets[0].images.normalizer()
        let network = config.classifier(classes: 6)
        var lastLoss = 0.0
        func train(_ data: LabelledImages, seed: UInt64, what: String) throws -> ClassifierTrainer? {
            let trainer = try ClassifierTrainer(
                config: network, recipe: config.recipe, normalizer: normalizer, seed: seed)
            let finished = try trainer.train(data, shouldStop: shouldStop) { _, loss in
                lastLoss = loss
                progress?.advance(note: what)
            }
            return finished ? trainer : nil
        }

        // The control first: a run that cannot be trusted stops before the long part.
        guard let control = try train(sets[0].shuffled(seed: plan.controlSeed), seed: plan.runSeed(0), what: "control")
        else { return nil }
        let controlScores = Self.scores(control.predict(test.images).probabilities, truth: test.classes).0
        // Balanced accuracy averages over the labels with test photos: chance is one over their number.
        let present = test.counts(classes: 6).filter { $0 > 0 }
        let band = ConfusionMatrix.chanceBand(classes: present.count, testCounts: present)
        let controlResult = ControlResult(
            balancedAccuracy: controlScores.balancedAccuracy, low: band.lowerBound, high: band.upperBound,
            passed: band.contains(controlScores.balancedAccuracy))
        say(
            "control (labels of '\(plan.arms[0].name)' shuffled): balanced accuracy \(percent(controlScores.balancedAccuracy)), chance band \(percent(band.lowerBound)) to \(percent(band.upperBound)): \(controlResult.passed ? "at chance, as it must be" : "NOT at chance")"
        )
        guard controlResult.passed else {
            throw RiversError.usage(
                "the label-shuffled control scored \(percent(controlScores.balancedAccuracy)) balanced accuracy, outside chance (\(percent(band.lowerBound)) to \(percent(band.upperBound))): a test photo or its near-copy is in the training set, or a bug; the results would not mean anything"
            )
        }

        var runs = [[RunScores]](repeating: [], count: plan.arms.count)
        var predictions = [[[Int]]](repeating: [], count: plan.arms.count)
        var categoryPredictions = predictions
        var referenceTrainer: ClassifierTrainer? = nil
        var referenceTestFeatures: [Float] = []
        for s in 0..<config.seeds {
            let seed = plan.runSeed(s)
            for (a, arm) in plan.arms.enumerated() {
                guard let trainer = try train(sets[a], seed: seed, what: "\(arm.name), seed \(s + 1)") else {
                    return nil
                }
                let (probabilities, features) = trainer.predict(test.images)
                let (labels, categories) = Self.scores(probabilities, truth: test.classes)
                let trainPredictions = Self.predictions(trainer.predict(sets[a].images).probabilities).labels
                let trainAccuracy =
                    Double(zip(trainPredictions, sets[a].classes).filter { $0 == $1 }.count) / Double(sets[a].count)
                runs[a].append(
                    RunScores(
                        seed: seed, labels: labels, categories: categories, trainAccuracy: trainAccuracy,
                        finalLoss: lastLoss))
                let predicted = Self.predictions(probabilities)
                predictions[a].append(predicted.labels)
                categoryPredictions[a].append(predicted.categories)
                if s == 0 && a == 0 { referenceTrainer = trainer; referenceTestFeatures = features }
            }
        }
        progress?.finish()
        var armResults: [ArmResult] = []
        for (a, arm) in plan.arms.enumerated() {
            let r = runs[a]
            let versus =
                a == 0
                ? nil
                : PairedComparison(
                    truth: test.classes, arm: predictions[a], base: predictions[0], classes: 6,
                    resamples: config.bootstrap, seed: config.seed)
            let categoryVersus =
                a == 0
                ? nil
                : PairedComparison(
                    truth: Self.category(test.classes), arm: categoryPredictions[a], base: categoryPredictions[0],
                    classes: 2, resamples: config.bootstrap, seed: config.seed)
            let recall: [Double?] = (0..<6).map { k in
                let values = r.compactMap { $0.labels.recall[k] }
                return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            }
            armResults.append(
                ArmResult(
                    name: arm.name, dir: arm.files.dir, counts: arm.files.counts, generated: arm.generated, runs: r,
                    balancedAccuracy: MeanInterval(samples: r.map(\.labels.balancedAccuracy)),
                    accuracy: MeanInterval(samples: r.map(\.labels.accuracy)),
                    macroF1: MeanInterval(samples: r.map(\.labels.macroF1)),
                    categoryBalancedAccuracy: MeanInterval(samples: r.map(\.categories.balancedAccuracy)),
                    categoryAccuracy: MeanInterval(samples: r.map(\.categories.accuracy)),
                    trainAccuracy: MeanInterval(samples: r.map(\.trainAccuracy)), recall: recall,
                    versusReference: versus,
                    categoryVersusReference: categoryVersus))
        }
        let distances = referenceTrainer.map {
            Self.distances($0, test: test, testFeatures: referenceTestFeatures, reference: sets[0], sets: sets)
        }
        return EvaluationResult(
            date: utcDate(Date(), "yyyy-MM-dd HH:mm 'UTC'"), testDir: plan.test.dir, testCounts: plan.test.counts,
            settings: config, control: controlResult, arms: armResults, distances: distances ?? [],
            seconds: Date().timeIntervalSince(started))
    }

    /// Per label, the Frechet distance (and KID) to the test photos of: the reference arm's real
    /// photos (the floor), the pure generations and the variations found in any arm.
    static func distances(
        _ trainer: ClassifierTrainer, test: LabelledImages, testFeatures: [Float], reference: LabelledImages,
        sets: [LabelledImages]
    ) -> [DistanceRow] {
        let F = trainer.net.featureCount
        // Generated images of every arm, each file once, by kind.
        var seen: Set<String> = []
        var pure: [(Int, Int)] = [], variations: [(Int, Int)] = []  // (set, index)
        for (s, set) in sets.enumerated() {
            for (i, path) in set.images.paths.enumerated() where seen.insert(path).inserted {
                guard let id = GeneratedNames.identity(of: (path as NSString).lastPathComponent) else { continue }
                if id.kind == "VAR" { variations.append((s, i)) } else { pure.append((s, i)) }
            }
        }
        func features(_ items: [(Int, Int)]) -> (features: [Float], classes: [Int]) {
            guard !items.isEmpty else { return ([], []) }
            let h = test.images.height, w = test.images.width, per = h * w * 3
            var pixels: [UInt8] = []
            pixels.reserveCapacity(items.count * per)
            for (s, i) in items { pixels += sets[s].images.pixels[(i * per)..<((i + 1) * per)] }
            let images = TrainingImages(
                height: h, width: w, paths: items.map { sets[$0.0].images.paths[$0.1] }, pixels: pixels)
            return (trainer.predict(images).features, items.map { sets[$0.0].classes[$0.1] })
        }
        let realTrain = features(reference.classes.indices.map { (0, $0) })
        let kinds = [("real train", realTrain), ("generated", features(pure)), ("variation", features(variations))]
        var rows: [DistanceRow] = []
        for label in 0..<6 {
            let testRows = test.classes.indices.filter { test.classes[$0] == label }
            guard testRows.count >= 2 else { continue }
            for (kind, set) in kinds {
                let rowsOfKind = set.classes.indices.filter { set.classes[$0] == label }
                guard rowsOfKind.count >= 2 else { continue }
                // Equal counts on both sides (FD's bias depends on N): the larger is subsampled.
                let n = min(rowsOfKind.count, testRows.count)
                var rng = SeededGenerator(seed: 0, stream: ["frechet", String(label), kind])
                let a = Array(rowsOfKind.shuffled(using: &rng).prefix(n)),
                    b = Array(testRows.shuffled(using: &rng).prefix(n))
                let fa = a.flatMap { i in (0..<F).map { Double(set.features[i * F + $0]) } }
                let fb = b.flatMap { i in (0..<F).map { Double(testFeatures[i * F + $0]) } }
                rows.append(
                    DistanceRow(
                        label: label + 1, kind: kind, count: n,
                        frechet: Frechet.distance(fa, fb, dimension: F),
                        kid: Frechet.kernelInceptionDistance(fa, fb, dimension: F)))
            }
        }
        return rows
    }
}
