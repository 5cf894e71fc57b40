// The training loop: exact resume from any step, log and checkpoints, early stopping, data
// loading, validation, sampling. Tiny networks, so the whole file runs in seconds.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class TrainingRunTests: XCTestCase {
    func loadImages(_ dir: String, _ c: TrainConfig) throws -> TrainingImages {
        let load = TrainingImages.load(try TrainingImages.scan(dir).images, height: c.height, width: c.width)
        XCTAssertEqual(load.failures, [])
        return load.images
    }

    func newRun(_ root: String, _ data: TrainingImages, _ c: TrainConfig, name: String) throws -> TrainingRun {
        let dir = RunDirectory(root + "/" + name)
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        return try TrainingRun.start(in: dir, record: RunRecord(label: 2, inDir: root + "/data", train: c), data: data)
    }

    func losses(_ dir: RunDirectory) throws -> [[Double]] {
        try dir.readLog().map {
            [Double($0.epoch), $0.nLoss, $0.iLoss, $0.validation?.nLoss ?? -1, $0.validation?.iLoss ?? -1]
        }
    }

    /// Stopped at an epoch boundary or in the middle of an epoch and resumed, a run gives the same
    /// losses, to the bit, as one that never stopped, and ends with the same weights.
    func testResumeFromAnyStepRepeatsTheUninterruptedRun() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 7)
        var c = tinyTrainConfig()
        c.validationSplit = 0.3  // 2 images for validation, one padded batch
        let data = try loadImages(root + "/data", c)
        let straight = try newRun(root, data, c, name: "straight")
        XCTAssertEqual(straight.split.validation.count, 2)
        XCTAssertEqual(straight.stepsPerEpoch, 2)  // 5 training images, batch 2: the partial batch is dropped
        XCTAssertEqual(try straight.train(), .finished)
        let reference = try losses(straight.directory)
        XCTAssertEqual(reference.count, 3)
        XCTAssertTrue(reference.allSatisfy { $0[3] > 0 }, "validation losses are logged")
        let referenceWeights = try SafeTensors.read(straight.directory.lastCheckpoint)

        for stopAfter in [2, 3, 5] {  // an epoch boundary, mid-epoch, the last epoch's middle
            let run = try newRun(root, data, c, name: "stopped\(stopAfter)")
            var events = TrainingEvents()
            var steps = 0
            events.step = { _, _, _, _ in steps += 1 }
            events.shouldStop = { steps >= stopAfter }
            guard case .interrupted(let epoch, let step) = try run.train(events) else { return XCTFail("did not stop") }
            XCTAssertEqual(epoch * 2 + step, stopAfter)
            let record = try run.directory.record()
            let resumed = try TrainingRun.resume(run.directory, record: record, data: data)
            XCTAssertEqual(resumed.progress.epoch * 2 + resumed.progress.epochStep, stopAfter)
            XCTAssertEqual(try resumed.train(), .finished)
            XCTAssertEqual(try losses(run.directory), reference, "stopped after step \(stopAfter)")
            let weights = try SafeTensors.read(run.directory.lastCheckpoint)
            for (name, tensor) in referenceWeights.tensors {
                XCTAssertEqual(
                    weights.tensors[name]?.values, tensor.values, "\(name) after stopping at step \(stopAfter)")
            }
        }
    }

    /// A run resumed with a larger epoch total continues as if that total had been set at first
    /// (with early stopping off, the only setting the total changes).
    func testMoreEpochsOnResumeContinueTheSameRun() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.earlyStopping = false
        let data = try loadImages(root + "/data", c)
        c.numEpochs = 4
        let long = try newRun(root, data, c, name: "long")
        XCTAssertEqual(try long.train(), .finished)
        c.numEpochs = 2
        let short = try newRun(root, data, c, name: "short")
        XCTAssertEqual(try short.train(), .finished)
        var record = try short.directory.record()
        record.train.numEpochs = 4
        XCTAssertEqual(try TrainingRun.resume(short.directory, record: record, data: data).train(), .finished)
        XCTAssertEqual(try losses(short.directory), try losses(long.directory))
        XCTAssertEqual(try short.directory.record().train.numEpochs, 4, "the new total is saved")
    }

    /// The run directory holds what PIPELINE.md lists, and the log rows are cut back to the
    /// checkpoint's epoch on resume (a kill between the log and the checkpoint repeats an epoch).
    func testRunDirectoryContentsAndLogCutBack() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.generateOnEpoch = 2; c.numEpochs = 2
        let data = try loadImages(root + "/data", c)
        let run = try newRun(root, data, c, name: "run")
        XCTAssertEqual(try run.train(), .finished)
        let written = try run.writeGeneratedImages(date: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(
            written.map { ($0 as NSString).lastPathComponent },
            ["S0_D010170_010170_0_0_DM_AUG_L2.JPG", "S0_D010170_010170_0_1_DM_AUG_L2.JPG"])
        // The final generation is made once per epoch: a second call (a rerun) has nothing left.
        XCTAssertEqual(try run.writeGeneratedImages(date: Date(timeIntervalSince1970: 0)), [])
        XCTAssertEqual(try run.directory.finalImages(), RunDirectory.FinalImages(epoch: 2, made: 2, nextIndex: 2))
        let dir = run.directory
        XCTAssertEqual(
            listing(dir.path).filter { !$0.contains("/") }.sorted(),
            [
                "best.safetensors", "config.json", "final_images.json", "generated_images", "last.safetensors",
                "log.csv", "loss.svg", "samples",
            ])
        XCTAssertEqual(listing(dir.samplesDir), ["epoch_0002.png"])
        let grid = try ImageFile.read(dir.samplesDir + "/epoch_0002.png")
        XCTAssertEqual([grid.width, grid.height], [16, 8 * 2 + 2], "two 8x16 images in a column with a 2-pixel gap")
        let record = try dir.record()
        XCTAssertEqual(record.label, 2)
        XCTAssertEqual(record.train, c)
        let svg = try String(contentsOfFile: dir.plotPath, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("n_loss") && svg.contains("<polyline"))
        // Simulate a kill after epoch 2's log row but before its checkpoint: rows past the
        // checkpoint's epoch are dropped on resume.
        let rows = try dir.readLog()
        XCTAssertEqual(rows.map(\.epoch), [1, 2])
        var extra = rows[1]; extra.epoch = 3
        try dir.writeLog(rows + [extra], validation: false)
        var more = record
        more.train.numEpochs = 2
        let resumed = try TrainingRun.resume(dir, record: more, data: data)
        XCTAssertEqual(resumed.log.map(\.epoch), [1, 2])
        XCTAssertEqual(try dir.readLog().map(\.epoch), [1, 2])
    }

    /// Two trainings of one run directory at once are refused; the lock goes with the training.
    func testARunIsTrainedByOneProcessAtATime() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = 1
        let data = try loadImages(root + "/data", c)
        let run = try newRun(root, data, c, name: "run")
        assertFileError(
            try TrainingRun.resume(run.directory, record: run.record, data: data), path: run.directory.path,
            reason: "another rivers process")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.directory.lockPath))
        XCTAssertEqual(try run.train(), .finished)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.directory.lockPath), "a finished run leaves no .lock")
        var more = run.record
        more.train.numEpochs = 3
        // Stopped by a request: the lock goes too.
        var stop = TrainingEvents()
        stop.shouldStop = { true }
        XCTAssertEqual(
            try TrainingRun.resume(run.directory, record: more, data: data).train(stop), .interrupted(epoch: 1, step: 0)
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.directory.lockPath), "a stopped run leaves no .lock")
        // A resume refused after taking the lock (here: no checkpoint) releases it.
        let empty = RunDirectory(root + "/empty")
        try FileManager.default.createDirectory(atPath: empty.path, withIntermediateDirectories: true)
        try empty.write(run.record)
        assertFileError(
            try TrainingRun.resume(empty, record: run.record, data: data), path: empty.lastCheckpoint, reason: "missing"
        )
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.lockPath))
        // A .lock left by a killed process does not stand in the way of a resume.
        writeFile(run.directory.lockPath, Data())
        XCTAssertEqual(try TrainingRun.resume(run.directory, record: more, data: data).train(), .finished)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.directory.lockPath))
    }

    /// `path` rewritten with its metadata changed by `change` (tensors kept): a checkpoint as an
    /// earlier rivers wrote it.
    func rewrite(_ path: String, metadata change: (inout [String: String]) -> Void) throws {
        let file = try SafeTensors.read(path)
        var metadata = file.metadata
        change(&metadata)
        let names = file.tensors.keys.sorted()
        let values = names.flatMap { file.tensors[$0]!.values }
        let data = try values.withUnsafeBufferPointer { all in
            var offset = 0
            var entries: [SafeTensors.Entry] = []
            for name in names {
                entries.append(.init(name: name, shape: file.tensors[name]!.shape, pointer: all.baseAddress! + offset))
                offset += file.tensors[name]!.values.count
            }
            return try SafeTensors.encode(entries, metadata: metadata)
        }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Checkpoints record the network under config.json's snake_case keys; one written with the
    /// earlier camelCase keys still loads, generates and resumes.
    func testCheckpointConfigIsSnakeCaseAndTheEarlierCamelCaseStillResumes() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = 1; c.imagesToGenerate = 0
        let data = try loadImages(root + "/data", c)
        let run = try newRun(root, data, c, name: "run")
        XCTAssertEqual(try run.train(), .finished)
        let dir = run.directory
        let text = try XCTUnwrap(try SafeTensors.read(dir.lastCheckpoint).metadata["config"])
        let keys = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]).keys
        XCTAssertEqual(
            keys.sorted(),
            ["attention_in_bottleneck", "attention_in_up_down_sample", "block_depth", "embedding_dims", "widths"])
        // Every key is a key of config.json's train section.
        XCTAssertTrue(Set(keys).isSubset(of: Set(TrainConfig.settings.map(\.key))))
        let camel =
            #"{"attentionInBottleneck":false,"attentionInUpDownSample":false,"blockDepth":1,"embeddingDims":8,"widths":[8,16]}"#
        XCTAssertEqual(try JSONDecoder().decode(UNetConfig.self, from: Data(camel.utf8)), c.network)
        for path in [dir.lastCheckpoint, dir.bestCheckpoint] { try rewrite(path) { $0["config"] = camel } }
        XCTAssertEqual(try SafeTensors.read(dir.lastCheckpoint).metadata["config"], camel)
        XCTAssertEqual(try TrainedModel(run: dir.path).epoch, 1, "generation loads it")
        var more = try dir.record()
        more.train.numEpochs = 2
        XCTAssertEqual(try TrainingRun.resume(dir, record: more, data: data).train(), .finished, "a resume too")
        XCTAssertEqual(try dir.readLog().map(\.epoch), [1, 2])
        XCTAssertTrue(
            try XCTUnwrap(try SafeTensors.read(dir.lastCheckpoint).metadata["config"]).contains("block_depth"),
            "the resumed run writes snake_case")
    }

    func testBestCheckpointHoldsTheBestEpoch() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data/2", count: 4)
        var c = tinyTrainConfig()
        c.numEpochs = 4; c.earlyStopping = false
        let data = try loadImages(root + "/data", c)
        let run = try newRun(root, data, c, name: "run")
        var bests: [Int] = []
        var events = TrainingEvents()
        events.epoch = { row, best in if best { bests.append(row.epoch) } }
        XCTAssertEqual(try run.train(events), .finished)
        let log = try run.directory.readLog()
        let bestRow = log.min { $0.nLoss < $1.nLoss }!
        XCTAssertEqual(bests.last, bestRow.epoch)
        let best = try Checkpoint.state(of: try SafeTensors.read(run.directory.bestCheckpoint), path: "best")
        XCTAssertEqual(best.epoch, bestRow.epoch)
        XCTAssertEqual(best.extra["label"], "2")
    }

    /// Keras 3's EarlyStopping(mode="min") by hand: start_from_epoch 2, patience 2, min_delta 0.1.
    func testEarlyStoppingFollowsKeras() {
        var e = EarlyStopping(minDelta: 0.1, startEpoch: 2, patience: 2)
        // epochs 0, 1 are not monitored; 2 sets best = 1.0; 3 improves by 0.05 (< min_delta):
        // wait 1; 4 improves by 0.2 (0.8 + 0.1 < 1.0): best 0.8, wait 0; 5 and 6 do not: stop at 6.
        let losses = [5.0, 4.0, 1.0, 0.95, 0.8, 0.79, 0.75]
        let stops = losses.enumerated().map { e.update(epoch: $0.offset, loss: $0.element) }
        XCTAssertEqual(stops, [false, false, false, false, false, false, true])
        XCTAssertEqual(e.best, 0.8)
        XCTAssertEqual(e.bestEpoch, 4)
        // The original's settings: 300 epochs at 1e-5 start at epoch 150 with patience 38.
        let original = EarlyStopping(epochs: 300, learningRate: 1e-5)
        XCTAssertEqual([original.startEpoch, original.patience], [150, 38])
        XCTAssertEqual(original.minDelta, 1e-6, accuracy: 1e-18)
        let odd = EarlyStopping(epochs: 5, learningRate: 1e-3)
        XCTAssertEqual([odd.startEpoch, odd.patience], [3, 1])
    }

    /// Images anywhere below the folder, non-images and corrupt files skipped and reported, each
    /// image center-cropped to the aspect ratio and resized.
    func testDataLoadingSkipsAndReports() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/a", count: 2, width: 40, height: 10)
        try writeTrainingImages(root + "/a/deeper", count: 1, width: 16, height: 8)
        writeFile(root + "/a/notes.txt", Data("x".utf8))
        writeFile(root + "/a/.DS_Store", Data("x".utf8))
        writeFile(root + "/a/broken.jpg", Data([0xFF, 0xD8, 0xFF, 0x00]))
        let scan = try TrainingImages.scan(root + "/a")
        XCTAssertEqual(
            scan.images.map { ($0 as NSString).lastPathComponent },
            ["S1_img0.png", "S1_img1.png", "broken.jpg", "S1_img0.png"])
        XCTAssertEqual(scan.ignored.map(\.path), [root + "/a/notes.txt"])
        let load = TrainingImages.load(scan.images, height: 8, width: 16)
        XCTAssertEqual(load.failures.map(\.path), [root + "/a/broken.jpg"])
        XCTAssertEqual(load.images.count, 3)
        XCTAssertEqual(load.images.pixels.count, 3 * 8 * 16 * 3)
        // The 40x10 image is cropped to its center 20x10 (2:1), then resized to 16x8.
        let source = try ImageFile.read(root + "/a/S1_img0.png")
        let expected = Geometry.resizeBilinear(
            Geometry.crop(source, x: 10, y: 0, width: 20, height: 10), width: 16, height: 8)
        XCTAssertEqual(Array(load.images.pixels[0..<(8 * 16 * 3)]), expected.pixels)
        // Links to folders are followed (the top folder too), and a link loop ends.
        try FileManager.default.createSymbolicLink(atPath: root + "/a/deeper/up", withDestinationPath: "..")
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/a")
        XCTAssertEqual(
            try TrainingImages.scan(root + "/link").images.map { String($0.dropFirst(root.count)) },
            ["/link/S1_img0.png", "/link/S1_img1.png", "/link/broken.jpg", "/link/deeper/S1_img0.png"])
        assertFileError(try TrainingImages.scan(root + "/missing"), path: root + "/missing", reason: "does not exist")
        try FileManager.default.createDirectory(atPath: root + "/empty/sub", withIntermediateDirectories: true)
        assertFileError(
            try TrainingImages.scan(root + "/empty"), path: root + "/empty", reason: "no .jpg, .jpeg or .png images")
        assertFileError(
            try TrainingImages.scan(root + "/a/notes.txt"), path: root + "/a/notes.txt", reason: "not a folder")
    }

    func testTooFewImagesForOneBatchIsAnError() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data", count: 3)
        var c = tinyTrainConfig()
        c.batchSize = 4
        let data = try loadImages(root + "/data", c)
        assertFileError(
            try TrainingRun.checkData(data, c, inDir: root + "/data"), path: root + "/data",
            reason: "fewer than one batch of 4")
        c.batchSize = 2; c.validationSplit = 0.7  // 2 of 3 held out
        assertFileError(
            try TrainingRun.checkData(data, c, inDir: root + "/data"), path: root + "/data",
            reason: "held out by --validation_split")
    }

    func testLabelFromFolderName() {
        XCTAssertEqual(TrainingPlan.label(fromFolder: "data/diffusion_data/L2"), 2)
        XCTAssertEqual(TrainingPlan.label(fromFolder: "data/3/"), 3)
        XCTAssertNil(TrainingPlan.label(fromFolder: "data/L7"))
        XCTAssertNil(TrainingPlan.label(fromFolder: "data/L"))
        XCTAssertNil(TrainingPlan.label(fromFolder: "data/L-1"))
        XCTAssertNil(TrainingPlan.label(fromFolder: "images"))
        XCTAssertEqual(grouped(8_335_939), "8,335,939")
        XCTAssertEqual(grouped(999), "999")
        XCTAssertEqual(grouped(1000), "1,000")
    }

    /// The plan of the original's defaults: MODEL.md's parameter count, the training workspace's
    /// own plan, and a refusal that names the figures when memory is short.
    func testPlanFiguresAndMemoryRefusal() throws {
        let plan = try TrainingPlan(config: TrainConfig(), label: 1, inDir: "x", images: 100)
        XCTAssertEqual(plan.parameters, 8_335_939)
        XCTAssertEqual(plan.stepsPerEpoch, 12)
        XCTAssertEqual(plan.dataBytes, 100 * 200 * 600 * 3)
        let net = try UNet(TrainConfig().network)
        XCTAssertEqual(
            plan.training,
            try UNetWorkspace.plannedMemory(net, batch: 8, height: 200, width: 600, mixedPrecision: false))
        XCTAssertEqual(plan.flopsPerStep, 3 * net.forwardFlops(batch: 8, height: 200, width: 600))
        XCTAssertNil(plan.memoryRefusal(available: plan.totalBytes))
        let refusal = try XCTUnwrap(plan.memoryRefusal(available: 1 << 30))
        XCTAssertTrue(refusal.contains("--use_mix_precision") && refusal.contains("1,024 MiB is available"), refusal)
    }
}
