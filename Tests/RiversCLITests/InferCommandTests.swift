// `rivers infer` end to end: images, names at the next free index, companion sheets, the
// memorization check, and one-line errors for runs and checkpoints that cannot be used.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class InferCommandTests: XCTestCase {
    /// A run of the tiny network trained for one epoch.
    func trainedRun(_ root: String) throws -> String {
        try writeTrainingImages(root + "/L2", count: 4)
        let tiny = [
            "--image_size", "8", "16", "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8",
            "--batch_size", "2",
            "--images_to_generate", "0", "--num_epochs", "1", "--quiet",
        ]
        let r = try runRivers(["train", "--in_dir", root + "/L2", "--out_dir", root + "/models"] + tiny)
        XCTAssertEqual(r.status, 0, r.err)
        let names = try FileManager.default.contentsOfDirectory(atPath: root + "/models")
        return root + "/models/" + (try XCTUnwrap(names.first { $0.hasPrefix("L2_") }))
    }

    func testInferWritesImagesAtTheNextFreeIndicesWithSheets() throws {
        let root = try makeTempDir(self)
        let run = try trainedRun(root)
        let r = try runRivers([
            "infer", "--model_dir", run, "--images_to_generate", "3", "--generate_diffusion_steps", "2", "--batch_size",
            "2", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err)
        let out = run + "/generated_images"
        let jpgs = listing(out).filter { $0.hasSuffix(".JPG") }
        XCTAssertEqual(jpgs.count, 3)
        XCTAssertTrue(
            jpgs.allSatisfy {
                $0.range(of: #"^S0_D\d{6}_\d{6}_0_[0-2]_DM_AUG_L2\.JPG$"#, options: .regularExpression) != nil
            }, "\(jpgs)")
        // The images' folder holds the generated images only; the sheets are beside it.
        XCTAssertEqual(listing(out), jpgs.sorted())
        let sheets = run + "/sheets"
        XCTAssertEqual(listing(sheets), ["contact_sheet_L2_0-2.png", "nearest_neighbors_L2_0-2.png"])
        XCTAssertTrue(r.out.contains("contact sheet: \(sheets)/contact_sheet_L2_0-2.png"), r.out)
        XCTAssertTrue(r.out.contains("memorization check against 4 training images"), r.out)
        let first = try Data(contentsOf: URL(fileURLWithPath: out + "/" + jpgs[0]))
        // Again into the same folder: three more files at indices 3..5; nothing is replaced; the
        // new images come from new noise (image n of a folder draws from (seed, n)).
        let again = try runRivers([
            "infer", "--model_dir", run, "--images_to_generate", "3", "--generate_diffusion_steps", "2",
            "--no_memorization_check", "--quiet",
        ])
        XCTAssertEqual(again.status, 0, again.err)
        let all = listing(out).filter { $0.hasSuffix(".JPG") }
        XCTAssertEqual(all.count, 6)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + jpgs[0])), first)
        XCTAssertEqual(listing(out), all.sorted())
        XCTAssertTrue(listing(sheets).contains("contact_sheet_L2_3-5.png"))
        XCTAssertFalse(listing(sheets).contains("nearest_neighbors_L2_3-5.png"))
        let sheet = try ImageFile.read(sheets + "/contact_sheet_L2_3-5.png")
        XCTAssertEqual([sheet.width, sheet.height], [2 * 16 + 2, 2 * 8 + 2], "two columns of 16x8 images")
        // A dry run writes nothing.
        let before = listing(root)
        let dry = try runRivers(["infer", "--model_dir", run, "--dry_run"])
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.contains("indices 6..10"), dry.out)
        XCTAssertTrue(dry.out.contains("(sheets into \(sheets))"), dry.out)
        XCTAssertEqual(listing(root), before)
    }

    /// The sheets folder is `sheets` beside the images' folder, whatever the images' folder is.
    func testSheetsGoBesideTheImagesFolder() {
        XCTAssertEqual(InferencePlan.sheetsDir(outDir: "run/generated_images"), "run/sheets")
        XCTAssertEqual(InferencePlan.sheetsDir(outDir: "data/gen/3/"), "data/gen/sheets")
        XCTAssertEqual(InferencePlan.sheetsDir(outDir: "/gen"), "/sheets")
        XCTAssertEqual(InferencePlan.sheetsDir(outDir: "gen"), "sheets")
        XCTAssertEqual(InferencePlan.sheetsDir(outDir: "x/sheets"), "x/sheets_sheets", "never the images' folder")
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(
            InferencePlan.sheetsDir(outDir: "."),
            (FileOps.parent(cwd) as NSString).appendingPathComponent(
                (cwd as NSString).lastPathComponent == "sheets" ? "sheets_sheets" : "sheets"))
    }

    /// Two processes generating into one folder at once: every image is kept, under its own
    /// index, and the two runs' images differ (each index has its own noise).
    func testConcurrentRunsIntoOneFolderLoseNothing() throws {
        let root = try makeTempDir(self)
        let run = try trainedRun(root)
        let out = root + "/shared"
        let processes = (0..<2).map { _ -> Process in
            let p = Process()
            p.executableURL = riversExecutable
            p.arguments = [
                "infer", "--model_dir", run, "--images_to_generate", "4", "--generate_diffusion_steps", "3",
                "--batch_size", "1",
                "--out_dir", out, "--no_memorization_check", "--quiet",
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return p
        }
        for p in processes { try p.run() }
        for p in processes { p.waitUntilExit(); XCTAssertEqual(p.terminationStatus, 0) }
        let jpgs = listing(out).filter { $0.hasSuffix(".JPG") }
        XCTAssertEqual(jpgs.count, 8, "\(listing(out))")
        XCTAssertEqual(Set(jpgs.map(\.indexOfGenerated)), Set(0..<8))
        let contents = Set(try jpgs.map { try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0)) })
        XCTAssertEqual(contents.count, 8, "no two images are the same")
        XCTAssertEqual(listing(out).filter { $0.hasPrefix(".") }, [], "claims are released")
    }

    func testUnusableRunsAreOneLineErrorsBeforeAnyWork() throws {
        let root = try makeTempDir(self)
        let run = try trainedRun(root)
        func expect(
            _ args: [String], status: Int32, _ message: String, file: StaticString = #filePath, line: UInt = #line
        ) throws {
            let before = listing(root)
            let r = try runRivers(["infer"] + args)
            XCTAssertEqual(r.status, status, r.err, file: file, line: line)
            XCTAssertTrue(r.err.contains(message), "'\(r.err)' lacks '\(message)'", file: file, line: line)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err, file: file, line: line)
            XCTAssertEqual(listing(root), before, "nothing written", file: file, line: line)
        }
        try expect(["--model_dir", root + "/L2"], status: 1, "config.json: missing")
        try expect(["--model_dir", root + "/nothing"], status: 1, "nothing: does not exist")
        try expect(["--model_dir", run, "--checkpoint", "worst"], status: 2, "--checkpoint must be best or last")
        try expect(["--model_dir", run, "--eta", "nan"], status: 2, "--eta must be from 0 to 1")
        try expect(["--model_dir", run, "--images_to_generate", "0"], status: 2, "--images_to_generate must be 1")
        try expect(["--model_dir", run, "--batch_size", "-1"], status: 2, "--batch_size must be 1 to 1024")
        try expect(["--model_dir", run, "--out_dir", root + "/L2/x"], status: 2, "inside the run's training images")
        // A truncated checkpoint.
        let best = run + "/best.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: best))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: best))
        try expect(["--model_dir", run], status: 1, "best.safetensors: not a valid safetensors file")
        XCTAssertEqual(
            try runRivers(["infer", "--model_dir", run, "--checkpoint", "last", "--dry_run"]).status, 0,
            "the last checkpoint is whole")
        // A configuration that does not match the weights.
        var record = try RunDirectory(run).record()
        record.train.widths = [16, 32]
        try RunDirectory(run).write(record)
        try expect(
            ["--model_dir", run, "--checkpoint", "last"], status: 1,
            "last.safetensors: was trained with another network configuration")
        try FileManager.default.removeItem(atPath: run + "/last.safetensors")
        try expect(["--model_dir", run, "--checkpoint", "last"], status: 1, "last.safetensors: missing")
    }
}

extension String {
    /// n of `S0_D.._.._0_<n>_DM_AUG_L<label>.JPG`.
    var indexOfGenerated: Int { Int(split(separator: "_")[4]) ?? -1 }
}

final class TemporaryFileTests: XCTestCase {
    /// The pid of a process that has ended.
    func deadPid() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    /// What a killed writer left is removed on the next run; what a running process writes is not.
    func testStaleTemporariesAndClaimsOfDeadProcessesAreCleared() throws {
        let dir = try makeTempDir(self)
        let dead = try deadPid()
        writeFile(dir + "/.a.JPG.\(dead).7.tmp", Data("x".utf8))
        writeFile(dir + "/.b.JPG.1.7.tmp", Data("x".utf8))  // pid 1 runs
        writeFile(dir + "/.c.JPG.\(getpid()).7.tmp", Data("x".utf8))
        FileOps.removeStaleTemporaries(in: dir)
        XCTAssertEqual(listing(dir), [".b.JPG.1.7.tmp", ".c.JPG.\(getpid()).7.tmp"])
        // A claim of a dead process frees its index; one of a running process keeps it.
        writeFile(dir + "/.claim_L2_0", Data("1".utf8))
        writeFile(dir + "/.claim_L2_1", Data("\(dead)".utf8))
        XCTAssertEqual(InferencePlan.nextIndex(in: dir, label: 2), 1)
        let claims = try IndexClaims(dir: dir, label: 2, count: 2) { "S0_x_x_0_\($0)_DM_AUG_L2.JPG" }
        XCTAssertEqual(claims.indices, [1, 2])
        XCTAssertEqual(try String(contentsOfFile: dir + "/.claim_L2_1", encoding: .utf8), "\(getpid())")
        claims.releaseAll()
        XCTAssertEqual(listing(dir).filter { $0.hasPrefix(".claim") }, [".claim_L2_0"])
    }
}
