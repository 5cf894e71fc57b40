// `rivers balance` against hostile inputs: links from the output into the input, names that
// clash, a rerun with another ladder, what a killed run left, and the messages of bad folders.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class BalanceHardeningTests: XCTestCase {
    /// A raw dataset of 3 labels (the sample layout at 24x8) in a fresh folder.
    func makeRaw() throws -> String {
        let root = try makeTempDir(self) + "/raw"
        try SampleDataset.write(to: root, labels: 3, width: 24, height: 8)
        return root
    }

    func balance(_ raw: String, _ out: String, _ extra: [String] = []) throws -> (
        status: Int32, out: String, err: String
    ) {
        try runRivers(["balance", "--in_dir", raw, "--out_dir", out, "--quiet"] + extra)
    }

    func testLinksFromTheOutputIntoTheInputAreRefused() throws {
        let raw = try makeRaw()
        let before = listing(raw)
        let parent = (raw as NSString).deletingLastPathComponent
        // out/diffusion_data -> raw
        try FileManager.default.createDirectory(atPath: parent + "/out1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: parent + "/out1/diffusion_data", withDestinationPath: raw)
        // out/diffusion_data/L1/1 -> raw/1
        try FileManager.default.createDirectory(
            atPath: parent + "/out2/diffusion_data/L1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: parent + "/out2/diffusion_data/L1/1", withDestinationPath: raw + "/1")
        for (out, part) in [("out1", "out1/diffusion_data"), ("out2", "out2/diffusion_data/L1/1")] {
            for dry in [false, true] {
                let r = try balance(raw, parent + "/" + out, dry ? ["--dry_run"] : [])
                XCTAssertEqual(r.status, 1, r.err)
                XCTAssertTrue(r.err.contains("\(parent)/\(part): leads into --in_dir"), r.err)
            }
        }
        XCTAssertEqual(listing(raw), before, "nothing was written into the input")
    }

    /// X.JPG beside X.jpg, and an input named like another input's augmentation: every planned
    /// output gets its own name, the clash is reported, and the files on disk match the table.
    func testNameClashesAreResolvedAndReported() throws {
        let root = try makeTempDir(self)
        let raw = root + "/raw"
        // Site S1 has 6 images, so the sites below climb the ladder.
        for k in 0..<6 {
            writeFile(
                "\(raw)/1/S1_big\(k).png",
                try ImageFile.encode(patternImage(width: 24, height: 8, seed: k), path: "x.png"))
        }
        writeFile(
            "\(raw)/1/S2_x.JPG", try ImageFile.encode(patternImage(width: 24, height: 8, seed: 20), path: "x.JPG"))
        writeFile(
            "\(raw)/1/S2_x.jpg", try ImageFile.encode(patternImage(width: 24, height: 8, seed: 21), path: "x.jpg"))
        writeFile(
            "\(raw)/1/S3_y.jpg", try ImageFile.encode(patternImage(width: 24, height: 8, seed: 22), path: "x.jpg"))
        writeFile(
            "\(raw)/1/S3_y_5_-1.JPG", try ImageFile.encode(patternImage(width: 24, height: 8, seed: 23), path: "x.JPG"))
        for label in 2...3 {
            writeFile(
                "\(raw)/\(label)/S1_a.png", try ImageFile.encode(patternImage(width: 24, height: 8), path: "x.png"))
        }
        let r = try balance(raw, root + "/out")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(
            r.err.contains(
                "S2_x.jpg: its rotated copy S2_x_5_-1.JPG would take the name of another file; it is written as S2_x_5_-1_2.JPG"
            )
                || r.err.contains(
                    "S2_x.JPG: its rotated copy S2_x_5_-1.JPG would take the name of another file; it is written as S2_x_5_-1_2.JPG"
                ), r.err)
        XCTAssertTrue(
            r.err.contains("S3_y.jpg: its rotated copy S3_y_5_-1.JPG would take the name of another file"), r.err)
        // Both sites reach the largest site's 6 on disk: 6 (S1) + 6 + 6 files.
        let files = listing(root + "/out/diffusion_data/L1/1").filter { !$0.hasPrefix(".") }
        XCTAssertEqual(files.count, 18, "\(files)")
        XCTAssertEqual(files.filter { $0.hasPrefix("S2_") }.count, 6)
        XCTAssertEqual(files.filter { $0.hasPrefix("S3_") }.count, 6)
        XCTAssertTrue(r.out.contains("0 already present"), r.out)
    }

    func testARerunWithAnotherLadderIsRefused() throws {
        let raw = try makeRaw()
        let out = (raw as NSString).deletingLastPathComponent + "/out"
        XCTAssertEqual(try balance(raw, out).status, 0)
        let before = listing(out)
        for flags in [["--theta", "10"], ["--fact", "1.5", "--multiplier", "3"], ["--seed", "7"]] {
            for dry in [false, true] {
                let r = try balance(raw, out, flags + (dry ? ["--dry_run"] : []))
                XCTAssertEqual(r.status, 2, "\(flags): \(r.err)")
                XCTAssertTrue(r.err.contains("\(out)/diffusion_data was made with \(flags[0]) "), r.err)
            }
        }
        XCTAssertEqual(listing(out), before)
        // The same ladder completes a folder and leaves no temporary file of a killed writer.
        let leftover = out + "/diffusion_data/L1/1/.S1_x.JPG.999999.1.tmp"
        writeFile(leftover, Data("half".utf8))
        let again = try balance(raw, out)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover))
    }

    func testBadFoldersAreNamedWithTheRealReason() throws {
        let raw = try makeRaw()
        let parent = (raw as NSString).deletingLastPathComponent
        let out = parent + "/out"
        func expect(_ inDir: String, _ message: String, line: UInt = #line) throws {
            let r = try balance(inDir, out)
            XCTAssertEqual(r.status, 1, r.err, line: line)
            XCTAssertTrue(r.err.contains(message), r.err, line: line)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), line: line)
        }
        try expect(parent + "/nothing", "nothing: input folder does not exist")
        let empty = try balance("", out)
        XCTAssertEqual(empty.status, 2, empty.err)
        XCTAssertTrue(empty.err.contains("--in_dir must be a non-empty path"), empty.err)
        // A label folder that is a file, and one that is a link loop.
        try FileManager.default.removeItem(atPath: raw + "/2")
        writeFile(raw + "/2", Data("x".utf8))
        try expect(raw, "\(raw)/2: label folder is a file, not a folder")
        try FileManager.default.removeItem(atPath: raw + "/2")
        try FileManager.default.createSymbolicLink(atPath: raw + "/2", withDestinationPath: raw + "/2")
        try expect(raw, "\(raw)/2: label folder is a symbolic link loop")
        // A label whose images are all undecodable is as unusable as an empty one.
        try FileManager.default.removeItem(atPath: raw + "/2")
        writeFile(raw + "/2/S1_bad.jpg", Data("not a jpeg".utf8))
        try expect(raw, "\(raw)/2: label folder has no readable images (1 could not be decoded")
    }

    /// A label folder the user may not read: the message says so with the system's reason, once.
    /// Permissions do not bind root, so the tool runs as `nobody` through setpriv; elsewhere the
    /// test is skipped.
    func testUnreadableLabelFolderAsAnotherUser() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run the tool as an unprivileged user")
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        probe.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", riversExecutable.path, "--version"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw XCTSkip("the executable's folders are not open to an unprivileged user here")
        }
        let raw = try makeRaw()
        let parent = (raw as NSString).deletingLastPathComponent
        for path in [parent, raw] + listing(raw).map({ raw + "/" + $0 }) {
            chmod(path, FileOps.isDirectory(path) ? 0o777 : 0o644)
        }
        for (mode, message) in [
            (0o311 as mode_t, "label folder cannot be listed: Permission denied"),
            (0o644, "label folder cannot be read: Permission denied"),
        ] {
            chmod(raw + "/2", mode)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = [
                "--reuid=65534", "--regid=65534", "--clear-groups", riversExecutable.path, "balance", "--in_dir", raw,
                "--out_dir", parent + "/out", "--quiet",
            ]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 1, text)
            XCTAssertTrue(text.contains("\(raw)/2: \(message)"), text)
            XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        }
        chmod(raw + "/2", 0o755)
    }

    /// Ctrl-C while one large image climbs its ladder stops after the rung being written, not
    /// after all twelve; the same command then writes the rest.
    func testCtrlCStopsBetweenTheRungsOfALargeImage() throws {
        let root = try makeTempDir(self)
        let raw = root + "/raw", out = root + "/out"
        for k in 0..<13 {
            writeFile(
                "\(raw)/1/S1_s\(k).png",
                try ImageFile.encode(patternImage(width: 24, height: 8, seed: k), path: "x.png"))
        }
        writeFile(
            "\(raw)/1/S2_big.jpg", try ImageFile.encode(patternImage(width: 4800, height: 1600, seed: 3), path: "x.jpg")
        )
        for label in 2...3 {
            writeFile(
                "\(raw)/\(label)/S1_a.png", try ImageFile.encode(patternImage(width: 24, height: 8), path: "x.png"))
        }
        let p = Process()
        p.executableURL = riversExecutable
        p.arguments = ["balance", "--in_dir", raw, "--out_dir", out, "--quiet"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let dir = out + "/diffusion_data/L1/1"
        let rungs = { listing(dir).filter { $0.hasPrefix("S2_big_") && $0.hasSuffix(".JPG") }.count }
        let deadline = Date().addingTimeInterval(60)
        while rungs() == 0 && p.isRunning && Date() < deadline { usleep(5_000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertLessThan(rungs(), 12, "the remaining rungs wait for the rerun")
        let again = try runRivers(["balance", "--in_dir", raw, "--out_dir", out, "--quiet"])
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertEqual(rungs(), 12)
    }
}
