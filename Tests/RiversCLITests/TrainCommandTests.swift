// `rivers train` and `train-all` end to end: dry run, usage and data errors, Ctrl-C and kill -9
// with a loadable checkpoint, resume, and train-all going on past a failing label.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class TrainCommandTests: XCTestCase {
    /// The tiny network's flags (see `tinyTrainConfig`).
    let tiny = [
        "--image_size", "8", "16", "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8", "--batch_size",
        "2",
        "--learning_rate", "1e-3", "--images_to_generate", "1", "--generate_diffusion_steps", "2", "--quiet",
    ]

    func runs(_ out: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).filter { $0.hasPrefix("L") }.sorted().map {
            out + "/" + $0
        }
    }

    func testTrainWritesARunAndResumeRefusesChangedSettings() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L3/3", count: 4)
        let r = try runRivers(
            ["train", "--in_dir", root + "/L3", "--out_dir", root + "/models", "--num_epochs", "2"] + tiny)
        XCTAssertEqual(r.status, 0, r.err)
        let run = try XCTUnwrap(runs(root + "/models").first)
        XCTAssertTrue(
            ((run as NSString).lastPathComponent).range(of: #"^L3_\d{8}-\d{6}$"#, options: .regularExpression) != nil,
            run)
        XCTAssertEqual(try RunDirectory(run).record().label, 3, "the label comes from the folder name")
        XCTAssertEqual(try RunDirectory(run).readLog().count, 2)
        XCTAssertEqual(listing(run + "/generated_images").count, 1)
        XCTAssertTrue(r.out.contains("run directory: \(run)"), r.out)

        // Settings that would change the model cannot change on resume; nothing is written.
        let before = listing(run)
        let changed = try runRivers(["train", "--load_and_train", "--model_dir", run, "--batch_size", "4"])
        XCTAssertEqual(changed.status, 2)
        XCTAssertTrue(changed.err.contains("--batch_size cannot change when resuming (the run has 2)"), changed.err)
        XCTAssertEqual(listing(run), before)
        // A finished run says so and does nothing.
        let done = try runRivers(["train", "--load_and_train", "--model_dir", run, "--quiet"])
        XCTAssertEqual(done.status, 0)
        XCTAssertTrue(done.out.contains("has trained 2 of 2 epochs"), done.out)
        // More epochs continue the run (the same flags are no change).
        let more = try runRivers([
            "train", "--load_and_train", "--model_dir", run, "--num_epochs", "3", "--batch_size", "2", "--quiet",
        ])
        XCTAssertEqual(more.status, 0, more.err)
        XCTAssertEqual(try RunDirectory(run).readLog().map(\.epoch), [1, 2, 3])
        XCTAssertEqual(listing(run + "/generated_images").count, 2, "new images are added, none overwritten")
        // Not a run directory.
        let notRun = try runRivers(["train", "--load_and_train", "--model_dir", root + "/L3"])
        XCTAssertEqual(notRun.status, 1)
        XCTAssertTrue(notRun.err.contains("config.json: missing"), notRun.err)
    }

    /// `--init_from RUN`: a new run at another image size starts from RUN's weights (config.json
    /// records the checkpoint); a different network, a missing run and --load_and_train are
    /// refused before anything is written.
    func testInitFromStartsANewRunAtAnotherSize() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L2/2", count: 4)
        let small = try runRivers(
            ["train", "--in_dir", root + "/L2", "--out_dir", root + "/small", "--num_epochs", "1"] + tiny)
        XCTAssertEqual(small.status, 0, small.err)
        let source = try XCTUnwrap(runs(root + "/small").first)
        var bigger = tiny
        bigger[2] = "24"  // --image_size 8 24
        let dry = try runRivers(
            [
                "train", "--in_dir", root + "/L2", "--out_dir", root + "/big", "--num_epochs", "1", "--init_from",
                source,
                "--dry_run",
            ] + bigger)
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(
            dry.out.contains("starts from: the weights and EMA of \(source)/last.safetensors (epoch 1"), dry.out)
        XCTAssertEqual(listing(root + "/big"), [], "a dry run writes nothing")
        let big = try runRivers(
            ["train", "--in_dir", root + "/L2", "--out_dir", root + "/big", "--num_epochs", "1", "--init_from", source]
                + bigger)
        XCTAssertEqual(big.status, 0, big.err)
        let run = try XCTUnwrap(runs(root + "/big").first)
        XCTAssertEqual(try RunDirectory(run).record().initFrom, source + "/last.safetensors")
        XCTAssertEqual(try RunDirectory(run).record().train.imageSize, [8, 24])
        // Refusals, each before anything is written.
        let before = listing(root)
        let other = try runRivers(
            ["train", "--in_dir", root + "/L2", "--out_dir", root + "/other", "--init_from", source] + tiny
                + ["--widths", "8", "24"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.err.contains("was trained with widths 8 16, block depth 1"), other.err)
        let missing = try runRivers(
            ["train", "--in_dir", root + "/L2", "--out_dir", root + "/other", "--init_from", root + "/nope"] + tiny)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("missing: --init_from needs a run"), missing.err)
        let resume = try runRivers(["train", "--load_and_train", "--model_dir", run, "--init_from", source])
        XCTAssertEqual(resume.status, 2)
        XCTAssertTrue(resume.err.contains("--init_from starts a new run"), resume.err)
        XCTAssertEqual(listing(root), before)
    }

    /// `--dry_run` of the original's defaults (on small images, so the measured step is quick)
    /// prints MODEL.md's parameter count with separators and the figures, and writes nothing.
    func testDryRunPrintsTheFiguresAndWritesNothing() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 20)
        let before = listing(root)
        let r = try runRivers([
            "train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--image_size", "16", "16",
            "--batch_size", "1", "--dry_run",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        for expected in [
            "parameters: 8,335,939", "GFLOP per step:", "planned memory:", "one step:", "per epoch: 20 steps",
            "\"num_epochs\" : 300", "nothing was written",
        ] {
            XCTAssertTrue(r.out.contains(expected), "missing '\(expected)' in:\n\(r.out)")
        }
        XCTAssertEqual(listing(root), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/models"))
    }

    /// Every bad configuration is a one-line usage error (status 2) naming the value, before any
    /// work: nothing is written.
    func testBadConfigurationsAreUsageErrorsAndWriteNothing() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 4)
        let base = ["train", "--in_dir", root + "/L1", "--out_dir", root + "/models"]
        let cases: [([String], String)] = [
            (["--widths", "64", "128", "256", "516", "--embedding_dims", "516"], "64 + 516 = 580"),
            (["--widths", "60", "120"], "60 + 256 = 316"),
            (["--widths", "64", "100"], "--widths has 100, which does not divide into 8"),
            (["--image_size", "4", "12"], "--image_size 4 12"),
            (["--image_size", "0", "16"], "--image_size must be 2 whole numbers, each 2 to 8192, got 0 16"),
            (["--image_size", "16"], "--image_size must be 2 whole numbers"),
            (["--batch_size", "0"], "--batch_size must be 1 to 1024, got 0"),
            (["--learning_rate", "nan"], "--learning_rate must be from 1e-12 to 1"),
            (["--learning_rate", "-1e-5"], "--learning_rate must be from 1e-12 to 1"),
            (["--learning_rate", "abc"], "--learning_rate must be a number"),
            (["--num_epochs", "0"], "--num_epochs must be 1"),
            (["--eta", "inf"], "--eta must be from 0 to 1"),
            (["--sampler", "dpmpp2m", "--eta", "0.5"], "--eta applies to --sampler ddim only"),
            (["--sampler", "euler"], "--sampler must be ddim or dpmpp2m, got euler"),
            (["--spacing", "lognsr"], "--spacing must be time or logSNR, got lognsr"),
            (["--validation_split", "1"], "--validation_split"),
            (["--threads", "0"], "--threads must be 1 to 256"),
            (["--label", "9"], "--label must be 1 to 6"),
            (["--model_dir", root], "--model_dir continues a run only with --load_and_train"),
            (["--block_depth", "-3"], "--block_depth must be 1 to 16"),
            (["--out_dir", root + "/L1/models"], "is inside --in_dir"),
        ]
        for (flags, message) in cases {
            for dry in [false, true] {
                let r = try runRivers(base + flags + (dry ? ["--dry_run"] : []))
                XCTAssertEqual(r.status, 2, "\(flags): \(r.err)")
                XCTAssertTrue(r.err.contains(message), "\(flags): '\(r.err)' lacks '\(message)'")
                XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
            }
        }
        try writeTrainingImages(root + "/images", count: 4)
        let noLabel = try runRivers(["train", "--in_dir", root + "/images", "--out_dir", root + "/models"])
        XCTAssertEqual(noLabel.status, 2)
        XCTAssertTrue(noLabel.err.contains("pass --label N"), noLabel.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/models"))
    }

    func testBadDataIsOneLineErrorAndCorruptImagesAreSkipped() throws {
        let root = try makeTempDir(self)
        let missing = try runRivers(["train", "--in_dir", root + "/L1", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("\(root)/L1: does not exist"), missing.err)
        try writeTrainingImages(root + "/L2", count: 1)
        let few = try runRivers(["train", "--in_dir", root + "/L2", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(few.status, 1)
        XCTAssertTrue(few.err.contains("fewer than one batch of 2"), few.err)
        XCTAssertEqual(runs(root + "/models"), [], "no run directory")
        // The dry run fails as the run would, with the same error.
        let dry = try runRivers(["train", "--in_dir", root + "/L2", "--out_dir", root + "/models", "--dry_run"] + tiny)
        XCTAssertEqual(dry.status, 1)
        XCTAssertTrue(dry.err.contains("fewer than one batch of 2"), dry.err)
        try writeTrainingImages(root + "/L4", count: 2)
        writeFile(root + "/L4/S1_bad.jpg", Data("not a jpeg".utf8))
        let corrupt = try runRivers(
            ["train", "--in_dir", root + "/L4", "--out_dir", root + "/models", "--num_epochs", "1"] + tiny)
        XCTAssertEqual(corrupt.status, 0, corrupt.err)
        XCTAssertTrue(corrupt.err.contains("S1_bad.jpg: not a JPEG or PNG image; skipped"), corrupt.err)
        XCTAssertEqual(runs(root + "/models").count, 1)
    }

    /// Ctrl-C finishes the step, writes last.safetensors, says how to resume and exits 130;
    /// kill -9 at any moment leaves a loadable checkpoint; the resumed run completes.
    func testCtrlCAndKillLeaveALoadableCheckpoint() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 4)
        let process = Process()
        process.executableURL = riversExecutable
        process.arguments =
            ["train", "--in_dir", root + "/L1", "--out_dir", root + "/models", "--num_epochs", "100000"] + tiny
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let last = { self.runs(root + "/models").first.map { $0 + "/last.safetensors" } }
        let deadline = Date().addingTimeInterval(60)
        while last().map({ !FileManager.default.fileExists(atPath: $0) }) ?? true, Date() < deadline { usleep(20_000) }
        usleep(300_000)
        kill(process.processIdentifier, SIGINT)
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, text)
        let run = try XCTUnwrap(runs(root + "/models").first)
        XCTAssertTrue(text.contains("resume with: rivers train --load_and_train --model_dir \(run)"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/.lock"), "Ctrl-C leaves no .lock")
        let config = try RunDirectory(run).record().train
        let trainer = try DiffusionTrainer(config: config.network, batch: 2, height: 8, width: 16)
        let stopped = try TrainingRun.savedProgress(RunDirectory(run))
        XCTAssertGreaterThan(stopped.epoch * 2 + stopped.epochStep, 0)

        // kill -9 at several moments of a resumed run: each time the checkpoint loads.
        for delay in [150_000, 400_000, 700_000] as [UInt32] {
            let resumed = Process()
            resumed.executableURL = riversExecutable
            resumed.arguments = ["train", "--load_and_train", "--model_dir", run, "--quiet"]
            resumed.standardOutput = FileHandle.nullDevice
            resumed.standardError = FileHandle.nullDevice
            try resumed.run()
            usleep(delay)
            kill(resumed.processIdentifier, SIGKILL)
            resumed.waitUntilExit()
            XCTAssertNoThrow(
                try Checkpoint.load(run + "/last.safetensors", into: trainer), "after kill -9 at \(delay) us")
        }
        let epochs = try TrainingRun.savedProgress(RunDirectory(run)).epoch
        let finish = try runRivers([
            "train", "--load_and_train", "--model_dir", run, "--num_epochs", String(epochs + 1), "--quiet",
        ])
        XCTAssertEqual(finish.status, 0, finish.err)
        XCTAssertEqual(try RunDirectory(run).readLog().map(\.epoch), Array(1...(epochs + 1)))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: run + "/.lock"), "a resume after kill -9 ends without .lock")
        XCTAssertEqual(
            listing(run).filter { $0.hasSuffix(".tmp") }, [], "a resumed run removes temporary files of killed writers")
    }

    /// Counts of one read in the singular: one thread, one step, one epoch, one training image.
    func testDryRunSaysOneThreadOneStepOneEpoch() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L1", count: 2)
        let dry = ["--out_dir", root + "/models", "--num_epochs", "1", "--threads", "1", "--dry_run"] + tiny
        let r = try runRivers(["train", "--in_dir", root + "/L1"] + dry)
        XCTAssertEqual(r.status, 0, r.err)
        for expected in ["(measured on 1 thread: ", "per epoch: 1 step, about ", "; 1 epoch: about "] {
            XCTAssertTrue(r.out.contains(expected), "missing '\(expected)' in:\n\(r.out)")
        }
        // One image and batches of 2: refused as the run would be, in the singular.
        try writeTrainingImages(root + "/L2", count: 1)
        let one = try runRivers(["train", "--in_dir", root + "/L2"] + dry)
        XCTAssertEqual(one.status, 1, one.err)
        XCTAssertTrue(one.out.contains("would not start: 1 training image is fewer than one batch of 2"), one.out)
        XCTAssertTrue(one.err.contains("has 1 training image, fewer than one batch of 2"), one.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/models"))
    }

    func testTrainAllGoesOnPastAFailingLabel() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/dd/L1/1", count: 4)
        try writeTrainingImages(root + "/dd/L2/2", count: 1)  // fewer than one batch
        try writeTrainingImages(root + "/dd/L3/3", count: 4)
        try FileManager.default.createDirectory(atPath: root + "/dd/other", withIntermediateDirectories: true)
        let r = try runRivers(
            ["train-all", "--in_dir", root + "/dd", "--out_dir", root + "/models", "--num_epochs", "1"] + tiny)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("label 2: \(root)/dd/L2: has 1 training image,"), r.err)
        let names = runs(root + "/models").map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(names.map { String($0.prefix(3)) }, ["L1_", "L3_"])
        let table = r.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(table.contains { $0.hasPrefix("L1 ") && $0.hasSuffix("finished") }, r.out)
        XCTAssertTrue(table.contains { $0.hasPrefix("L2 ") && $0.contains("failed") }, r.out)
        XCTAssertTrue(table.contains { $0.hasPrefix("L3 ") && $0.hasSuffix("finished") }, r.out)
        let none = try runRivers(["train-all", "--in_dir", root + "/dd/L1", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.err.contains("has no label folders L1 .. L6"), none.err)
    }

    func testHelpListsEveryTrainingOption() throws {
        let help = try runRivers(["train", "--help"])
        XCTAssertEqual(help.status, 0)
        for name in TrainConfig.settings.map(\.key) + [
            "in_dir", "label", "load_and_train", "model_dir", "gpu_index", "threads", "dry_run", "config",
        ] {
            XCTAssertTrue(help.out.contains("--\(name)"), name)
        }
        let text = oneLine(help.out)
        XCTAssertTrue(text.contains("default: 64 96 128 256)") && text.contains("default: 1e-05)"), help.out)
        let gpu = try runRivers(["train", "--in_dir", "/nonexistent/L1", "--gpu_index", "0"])
        XCTAssertTrue(gpu.err.contains("note: --gpu_index is ignored"), gpu.err)
    }
}
