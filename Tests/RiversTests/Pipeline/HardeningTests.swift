// What a hostile or unlucky user meets: checkpoints and run records that cannot generate,
// outputs that lead into inputs, interrupted generations that a rerun completes, and plans
// that a rerun must not mix. Each test fails on the tool before these guards.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

/// A noise predictor that answers `value` everywhere (NaN, infinity, ...).
final class ConstantPredictor: NoisePredictor {
    let batch: Int, height = 4, width = 8
    let value: Float
    init(batch: Int, value: Float) { self.batch = batch; self.value = value }
    func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
        out.update(repeating: value, count: batch * height * width * 3)
    }
}

final class HardeningTests: XCTestCase {
    /// A trained tiny run (2 epochs, 2 final images) in `root/run`.
    func tinyRun(_ root: String, epochs: Int = 2, grids: Int = 0) throws -> (TrainingRun, TrainingImages) {
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = epochs; c.generateOnEpoch = grids
        let load = TrainingImages.load(try TrainingImages.scan(root + "/data").images, height: c.height, width: c.width)
        let dir = RunDirectory(root + "/run")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let run = try TrainingRun.start(
            in: dir, record: RunRecord(label: 2, inDir: root + "/data", train: c), data: load.images)
        XCTAssertEqual(try run.train(), .finished)
        return (run, load.images)
    }

    /// Rewrites every tensor of `path` whose name starts with one of `prefixes` to `value`.
    func poison(_ path: String, _ prefixes: [String], _ value: Float) throws {
        let file = try SafeTensors.read(path)
        var buffers: [(String, [Int], [Float])] = []
        for (name, t) in file.tensors.sorted(by: { $0.key < $1.key }) {
            let hit = prefixes.contains { name.hasPrefix($0) }
            buffers.append((name, t.shape, hit ? [Float](repeating: value, count: t.values.count) : t.values))
        }
        let data = try withExtendedLifetime(buffers) {
            try SafeTensors.encode(
                buffers.map { b in
                    b.2.withUnsafeBufferPointer { SafeTensors.Entry(name: b.0, shape: b.1, pointer: $0.baseAddress!) }
                },
                metadata: file.metadata)
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    func testCheckpointsThatCannotGenerateAreRefusedNamingTheFile() throws {
        let root = try makeTempDir(self)
        let (run, _) = try tinyRun(root)
        let best = run.directory.bestCheckpoint
        let original = try Data(contentsOf: URL(fileURLWithPath: best))
        for (prefixes, value, reason) in [
            (["ema/"], Float.nan, "holds nan"), (["ema/"], 3e38, "beyond any trained weight"),
            (["normalizer/variance"], -1, "normalizer statistics"),
            (["normalizer/mean"], .infinity, "normalizer statistics"),
        ] as [([String], Float, String)] {
            try original.write(to: URL(fileURLWithPath: best))
            try poison(best, prefixes, value)
            assertFileError(try TrainedModel(run: run.directory.path), path: best, reason: reason)
        }
        // A resume reads every slab: non-finite weights in `last` are named before any training.
        try poison(run.directory.lastCheckpoint, ["weights/"], .nan)
        var c = try run.directory.record()
        c.train.numEpochs = 3
        let data = TrainingImages.load(try TrainingImages.scan(root + "/data").images, height: 8, width: 16).images
        assertFileError(
            try TrainingRun.resume(run.directory, record: c, data: data), path: run.directory.lastCheckpoint,
            reason: "holds nan")
    }

    func testANetworkThatAnswersNaNIsAnErrorNotATrap() throws {
        for value in [Float.nan, .infinity] {
            XCTAssertThrowsError(
                try Generation.images(
                    indices: [0, 1], predictor: ConstantPredictor(batch: 2, value: value), normalizer: Normalizer(),
                    sampler: DDIMSampler(steps: 3), seed: 1)
            ) { error in
                guard case RiversError.diverged = error else { return XCTFail("\(error)") }
            }
        }
        // The pixel conversion itself never traps.
        let nan = [Float](repeating: .nan, count: 3)
        XCTAssertEqual(
            nan.withUnsafeBufferPointer { Generation.image($0.baseAddress!, width: 1, height: 1) }.pixels, [0, 0, 0])
    }

    func testAStopBetweenStepsAbandonsOnlyTheBatchInProgress() throws {
        let predictor = ConstantPredictor(batch: 2, value: 0)
        var steps = 0
        let images = try Generation.images(
            indices: [0, 1, 2, 3, 4], predictor: predictor, normalizer: Normalizer(), sampler: DDIMSampler(steps: 4),
            seed: 1, onStep: { _ in steps += 1 }, shouldStop: { steps >= 6 })
        // The first batch (4 steps) finished; the second stopped after 2 of its steps.
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(steps, 6)
    }

    func testARunRecordOutOfRangeNamesItsConfigJSON() throws {
        let root = try makeTempDir(self)
        let dir = RunDirectory(root + "/L1_x")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        for (key, value, reason) in [
            ("label", "9", "label must be 1 to 6, got 9"), ("label", "-1", "label must be 1 to 6"),
        ] {
            var json =
                try JSONSerialization.jsonObject(
                    with: JSONEncoder().encode(RunRecord(label: 1, inDir: root, train: TrainConfig())))
                as! [String: Any]
            json[key] = Int(value)!
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir.configPath))
            assertFileError(try dir.record(), path: dir.configPath, reason: reason)
        }
        var json =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(RunRecord(label: 1, inDir: root, train: TrainConfig()))) as! [String: Any]
        var train = json["train"] as! [String: Any]
        train["min_signal_rate"] = 2.0
        json["train"] = train
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir.configPath))
        assertSettingError(
            try dir.record(), key: "train.min_signal_rate", path: dir.configPath, reason: "above 0 and below 1")
    }

    /// Killed during the final generation, a run's resume makes exactly the missing images, the
    /// ones an uninterrupted run makes; a kill during a sample grid leaves a grid the resume draws.
    func testInterruptedFinalImagesAndGridsAreFinishedByAResume() throws {
        let root = try makeTempDir(self)
        var (run, data) = try tinyRun(root + "/a", grids: 2)
        let straight = try run.writeGeneratedImages(date: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(straight.count, 2)
        let reference = try straight.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        (run, data) = try tinyRun(root + "/b", grids: 2)
        let c = try run.directory.record()
        let first = try run.writeGeneratedImages(date: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(try first.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }, reference)
        // A kill between the second file and its record: the pending name is there, so it counts.
        let second = (first[1] as NSString).lastPathComponent
        try run.directory.write(RunDirectory.FinalImages(epoch: 2, made: 1, nextIndex: 1, pending: second))
        XCTAssertEqual(try run.directory.finalImages(), RunDirectory.FinalImages(epoch: 2, made: 2, nextIndex: 2))
        // A kill before the second file was written: its record says 1 made, pending, and the file is
        // not there. The resume remakes the second, byte for byte, under the same name.
        try FileManager.default.removeItem(atPath: first[1])
        try run.directory.write(RunDirectory.FinalImages(epoch: 2, made: 1, nextIndex: 1, pending: second))
        let resumed = try TrainingRun.resume(run.directory, record: c, data: data)
        _ = try resumed.train()
        let rest = try resumed.writeGeneratedImages(date: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(rest.map { ($0 as NSString).lastPathComponent }, [(first[1] as NSString).lastPathComponent])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: rest[0])), reference[1])

        // The grid of the checkpoint's epoch, lost to a kill, is drawn by the resume.
        let grid = run.directory.samplesDir + "/epoch_0002.png"
        let gridBytes = try Data(contentsOf: URL(fileURLWithPath: grid))
        try FileManager.default.removeItem(atPath: grid)
        _ = try TrainingRun.resume(run.directory, record: c, data: data).train()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: grid)), gridBytes)
    }

    func testAResumeOfACompleteRunSaysSoOnlyWhenTheFinalImagesExist() throws {
        let root = try makeTempDir(self)
        let (run, _) = try tinyRun(root)
        let before = try ResumePlan(
            run: run.directory.path, given: [:], inDir: nil, label: nil, threads: Parallel.threadCount)
        XCTAssertNil(before.complete, "the final images are still to be made")
        XCTAssertEqual(before.finalImagesMissing, 2)
        _ = try run.writeGeneratedImages()
        let after = try ResumePlan(
            run: run.directory.path, given: [:], inDir: nil, label: nil, threads: Parallel.threadCount)
        XCTAssertNotNil(after.complete)
    }

    func testStaleClaimsOfDeadProcessesAreRemoved() throws {
        let root = try makeTempDir(self)
        // A pid that cannot run: above the kernel's largest (2^22).
        writeFile(root + "/.claim_L1_5", Data("4194305".utf8))
        writeFile(root + "/.claim_L1_6", Data("\(getpid())".utf8))
        IndexClaims.removeStale(in: root)
        XCTAssertEqual(listing(root), [".claim_L1_6"])
    }

    func testAugmentOutputsThatLeadIntoTheInputAreRefused() throws {
        let root = try makeTempDir(self)
        try FileManager.default.createDirectory(atPath: root + "/raw/2", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/out/2", withDestinationPath: root + "/raw/2")
        XCTAssertThrowsError(try AugmentRun.checkOutside(outDir: root + "/out", inDir: root + "/raw")) {
            XCTAssertTrue("\($0)".contains("leads into --in_dir"), "\($0)")
        }
        XCTAssertThrowsError(try AugmentRun.checkOutside(outDir: root, inDir: root + "/raw"))
        XCTAssertThrowsError(try AugmentRun.checkOutside(outDir: root + "/raw/x", inDir: root + "/raw"))
        XCTAssertNoThrow(try AugmentRun.checkOutside(outDir: root + "/elsewhere", inDir: root + "/raw"))
    }

    /// An original named like a generated image keeps its identity: no planned item takes it,
    /// so the counts stay honest.
    func testAnOriginalWithAGeneratedNameIsNeverCountedAsAnItem() throws {
        let original = "/raw/2/S0_D010125_010125_0_0_DM_AUG_L2.JPG"
        let images: [Int: [String]] = [1: ["/raw/1/S1_a.JPG"], 2: [original], 4: (0..<6).map { "/raw/4/S1_\($0).JPG" }]
        let plan = try Augment.plan(
            images: images, models: [1: "/r/1", 2: "/r/2", 3: "/r/3"],
            options: AugmentConfig(strengths: [1], probs: [1]))
        let items = plan.labels[1].items
        XCTAssertFalse(items.isEmpty)
        XCTAssertFalse(items.contains { $0.matches((original as NSString).lastPathComponent) }, "\(items.map(\.index))")
        XCTAssertEqual(plan.count(category: 1, after: true), plan.count(category: 2, after: true))
    }

    func testAugmentRefusesARerunWithAnotherPlan() throws {
        let root = try makeTempDir(self)
        let settings = AugmentConfig()
        try AugmentRun.checkRecord(settings, models: [2: root + "/r2"], outDir: root, write: true)
        XCTAssertNoThrow(try AugmentRun.checkRecord(settings, models: [2: root + "/r2"], outDir: root, write: true))
        var other = settings
        other.generation.seed = 7
        XCTAssertThrowsError(try AugmentRun.checkRecord(other, models: [2: root + "/r2"], outDir: root, write: false)) {
            XCTAssertTrue("\($0)".contains("was made with --seed 42"), "\($0)")
        }
        var pure = settings
        pure.strengths = [1]; pure.probs = [1]
        XCTAssertThrowsError(try AugmentRun.checkRecord(pure, models: [2: root + "/r2"], outDir: root, write: false)) {
            XCTAssertTrue("\($0)".contains("--strength 1 0.6 --probs 0.5 0.5"), "\($0)")
        }
        XCTAssertThrowsError(
            try AugmentRun.checkRecord(settings, models: [2: root + "/other"], outDir: root, write: false)
        ) {
            XCTAssertTrue("\($0)".contains("label 2's model"), "\($0)")
        }
    }

    func testAFolderOfWhichNoImageDecodedSaysSoInsteadOfAskingForASmallerBatch() {
        let none = TrainingImages.load([], height: 8, width: 16).images
        XCTAssertThrowsError(try TrainingRun.checkData(none, tinyTrainConfig(), inDir: "bad")) {
            XCTAssertEqual("\($0)", "bad: no image could be decoded (each was reported above)")
        }
    }

    /// Label folders `1` and `01` would map to one label: refused naming both. Other entries of
    /// a raw dataset are reported as skipped, never silently passed over.
    func testFoldersNamedLikeALabelAreRefusedOrReported() throws {
        let root = try makeTempDir(self)
        for name in ["1", "01", "L2", "7"] {
            try FileManager.default.createDirectory(atPath: root + "/raw/" + name, withIntermediateDirectories: true)
        }
        writeFile(root + "/raw/notes.txt", Data("x".utf8))
        writeFile(root + "/raw/1/S1_a.png", try ImageFile.encode(patternImage(width: 8, height: 4), path: "a.png"))
        let skipped = try RawDataset.otherEntries(root + "/raw").map { ($0.path as NSString).lastPathComponent }
        XCTAssertEqual(skipped, ["01", "7", "L2", "notes.txt"], "an empty 01 is skipped and said")
        writeFile(root + "/raw/01/S1_b.png", try ImageFile.encode(patternImage(width: 8, height: 4), path: "b.png"))
        assertFileError(
            try RawDataset.otherEntries(root + "/raw"), path: root + "/raw", reason: "two folders of label 1 (1 and 01)"
        )
        assertFileError(
            try AugmentRun.scan(inDir: root + "/raw"), path: root + "/raw", reason: "two folders of label 1")
        assertFileError(
            try Balance.scan(inDir: root + "/raw", labels: 3), path: root + "/raw", reason: "two folders of label 1")
    }

    /// Cases of the scripted hostile pass (scripts/hostile-pass.sh), at the library's level.
    func testHostilePassFindings() throws {
        let root = try makeTempDir(self)
        // A generated name with index 2^63-1, or a claim of it: not ours, and no overflow.
        writeFile(root + "/S0_D010125_010125_0_9223372036854775807_DM_AUG_L1.JPG", Data())
        writeFile(root + "/.claim_L1_9223372036854775807", Data())
        XCTAssertEqual(InferencePlan.nextIndex(in: root, label: 1), 0)
        // A claim without a pid is damaged (claims are created whole): stale, removed, as is the
        // empty one past the largest index.
        writeFile(root + "/.claim_L1_0", Data())
        IndexClaims.removeStale(in: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/.claim_L1_0"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/.claim_L1_9223372036854775807"))

        let (run, _) = try tinyRun(root + "/a")
        let dir = run.directory
        // A junk final_images.json is named, never guessed from.
        for junk in [
            #"{"made": -1, "next_index": 0, "epoch": 2}"#,
            #"{"made": 3, "next_index": 9223372036854775807, "epoch": 2}"#, "garbage",
        ] {
            writeFile(dir.finalImagesPath, Data(junk.utf8))
            assertFileError(
                try dir.finalImages(), path: dir.finalImagesPath, reason: "is not a record of the final images")
        }
        try FileManager.default.removeItem(atPath: dir.finalImagesPath)
        // A normalizer mean outside 0...1 and negative AdamW second moments are refused.
        let best = try Data(contentsOf: URL(fileURLWithPath: dir.bestCheckpoint))
        try poison(dir.bestCheckpoint, ["normalizer/mean"], 1e30)
        assertFileError(try TrainedModel(run: dir.path), path: dir.bestCheckpoint, reason: "normalizer statistics")
        try best.write(to: URL(fileURLWithPath: dir.bestCheckpoint))
        try poison(dir.lastCheckpoint, ["adam_v/"], -1)
        let data = TrainingImages.load(try TrainingImages.scan(root + "/a/data").images, height: 8, width: 16).images
        assertFileError(
            try TrainingRun.resume(dir, record: try dir.record(), data: data), path: dir.lastCheckpoint,
            reason: "adam_v/")
        // A run of another format.
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.configPath)))
            as! [String: Any]
        json["format"] = "rivers-run-99"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir.configPath))
        assertFileError(try dir.record(), path: dir.configPath, reason: "format rivers-run-99")

        // augment: a label folder that is a broken link is named; an image that is one is skipped and said.
        try FileManager.default.createDirectory(atPath: root + "/raw/1", withIntermediateDirectories: true)
        writeFile(root + "/raw/1/S1_a.png", try ImageFile.encode(patternImage(width: 8, height: 4), path: "a.png"))
        try FileManager.default.createSymbolicLink(
            atPath: root + "/raw/1/S1_gone.png", withDestinationPath: root + "/nothing.png")
        let scan = try AugmentRun.scan(inDir: root + "/raw")
        XCTAssertEqual(scan.images[1], [root + "/raw/1/S1_a.png"])
        XCTAssertTrue(
            scan.ignored.contains { $0.path.hasSuffix("S1_gone.png") && $0.reason.contains("cannot be read") },
            "\(scan.ignored)")
        try FileManager.default.createSymbolicLink(atPath: root + "/raw/3", withDestinationPath: root + "/nowhere")
        assertFileError(
            try AugmentRun.scan(inDir: root + "/raw"), path: root + "/raw/3",
            reason: "label folder is a symbolic link to nothing")
    }
}
