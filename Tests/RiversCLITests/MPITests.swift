// `mpirun -np 2 rivers ...` against one process: the same training losses, the same generated
// files, and a failing rank that ends the job. Runs when rivers was built with `--traits MPI`
// and mpirun is installed (.ci/run does both); skipped otherwise.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class MPITests: XCTestCase {
    var mpirun: String?

    override func setUpWithError() throws {
        let version = try runRivers(["--version"]).out
        guard version.contains("(MPI)") else {
            throw XCTSkip("rivers was built without MPI (swift build --traits MPI)")
        }
        mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard mpirun != nil else { throw XCTSkip("mpirun is not installed") }
    }

    /// `rivers args` on `ranks` ranks of one host, ended (and failed) if it takes over `timeout`.
    func mpi(_ ranks: Int, _ args: [String], timeout: TimeInterval = 240) throws -> (
        status: Int32, out: String, err: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments =
            ["--allow-run-as-root", "--oversubscribe", "-np", String(ranks), riversExecutable.path] + args
        var env = ProcessInfo.processInfo.environment
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        process.environment = env
        let errPath = NSTemporaryDirectory() + "rivers-mpi-stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let outPath = NSTemporaryDirectory() + "rivers-mpi-stdout-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let hung = process.isRunning
        if hung { process.terminate(); process.waitUntilExit() }
        try out.close(); try err.close()
        XCTAssertFalse(hung, "mpirun \(args.first ?? "") did not end within \(Int(timeout)) s")
        return (
            process.terminationStatus,
            String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
            String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        )
    }

    func trainArgs(_ data: String, _ out: String) -> [String] {
        [
            "train", "--in_dir", data, "--label", "3", "--out_dir", out, "--image_size", "8", "16", "--widths", "8",
            "16",
            "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "4", "--num_epochs", "3", "--learning_rate",
            "0.001",
            "--images_to_generate", "0", "--threads", "1", "--quiet",
        ]
    }

    func onlyRun(_ dir: String) throws -> RunDirectory {
        let runs = try RunSummary.expand([dir])
        XCTAssertEqual(runs.count, 1, "one run directory in \(dir)")
        return RunDirectory(runs[0])
    }

    /// Two ranks with the global batch of one process: the same losses, epoch by epoch, within
    /// what the order of summing the gradients explains; one run directory, written by rank 0.
    func testTwoRankTrainingEqualsOneProcess() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data", count: 9)
        let one = try runRivers(trainArgs(root + "/data", root + "/one"))
        XCTAssertEqual(one.status, 0, one.err)
        let two = try mpi(2, trainArgs(root + "/data", root + "/two"))
        XCTAssertEqual(two.status, 0, two.err)
        XCTAssertTrue(two.out.contains("on 2 ranks (2 images of each batch per rank)"), two.out)
        let a = try onlyRun(root + "/one").readLog(), b = try onlyRun(root + "/two").readLog()
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(b.count, 3)
        for (x, y) in zip(a, b) {
            // Same per-image draws; the gradients differ only in the order of float additions.
            XCTAssertEqual(x.nLoss, y.nLoss, accuracy: 1e-4 * x.nLoss, "epoch \(x.epoch)")
            XCTAssertEqual(x.iLoss, y.iLoss, accuracy: 1e-4 * x.iLoss, "epoch \(x.epoch)")
        }
        // Resuming on two ranks continues the same run.
        let more = try mpi(
            2,
            [
                "train", "--load_and_train", "--model_dir", try onlyRun(root + "/two").path, "--num_epochs", "4",
                "--threads", "1", "--quiet",
            ])
        XCTAssertEqual(more.status, 0, more.err)
        XCTAssertEqual(try onlyRun(root + "/two").readLog().count, 4)
    }

    /// infer and augment on two ranks write the same files, with the same pixels, as one process.
    func testTwoRankGenerationWritesWhatOneProcessWrites() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let runs = try trainTinyModels(raw: root + "/raw", labels: 1...3, into: root + "/models")
        func files(_ dir: String) -> [String: Data] {
            Dictionary(
                uniqueKeysWithValues: listing(dir).filter { $0.hasSuffix(".JPG") }.map {
                    ($0, FileManager.default.contents(atPath: dir + "/" + $0)!)
                })
        }
        let inferArgs = [
            "infer", "--model_dir", runs[0], "--images_to_generate", "5", "--batch_size", "2",
            "--generate_diffusion_steps", "3",
            "--threads", "1", "--quiet",
        ]
        XCTAssertEqual(try runRivers(inferArgs + ["--out_dir", root + "/i1"]).status, 0)
        let i2 = try mpi(2, inferArgs + ["--out_dir", root + "/i2"])
        XCTAssertEqual(i2.status, 0, i2.err)
        XCTAssertEqual(files(root + "/i1").count, 5)
        XCTAssertEqual(files(root + "/i1"), files(root + "/i2"), "the same names and bytes")
        XCTAssertTrue(i2.out.contains("memorization check"), "rank 0 checks every rank's images: \(i2.out)")

        let augmentArgs =
            ["augment", "--in_dir", root + "/raw", "--weight_paths"] + runs + [
                "--generate_diffusion_steps", "3", "--threads", "1", "--quiet",
            ]
        XCTAssertEqual(try runRivers(augmentArgs + ["--out_dir", root + "/a1"]).status, 0)
        let a2 = try mpi(2, augmentArgs + ["--out_dir", root + "/a2"])
        XCTAssertEqual(a2.status, 0, a2.err)
        XCTAssertTrue(a2.out.contains("40 originals copied, 6 images generated"), a2.out)
        XCTAssertEqual(files(root + "/a1").count, 46)
        XCTAssertEqual(files(root + "/a1"), files(root + "/a2"), "the same names and bytes")
    }

    /// A rank that fails ends every rank with its error, at once: nobody waits for it.
    func testAFailingRankStopsTheJob() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data", count: 9)
        writeFile(root + "/taken", Data("a file where the runs' folder would be".utf8))
        let started = Date()
        let r = try mpi(2, trainArgs(root + "/data", root + "/taken"), timeout: 120)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("rivers: error (rank 0 of 2): \(root)/taken"), r.err)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        // Three ranks cannot share a batch of 4: a usage error on every rank, before any work.
        let odd = try mpi(3, trainArgs(root + "/data", root + "/odd"), timeout: 120)
        XCTAssertEqual(odd.status, 2, odd.err)
        XCTAssertTrue(odd.err.contains("--batch_size 4 does not split evenly over 3 ranks"), odd.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/odd"))
    }
}
