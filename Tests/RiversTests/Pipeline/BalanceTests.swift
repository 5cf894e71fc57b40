// `rivers balance`: the plan's counts and names, and running it (writes, reruns, bad input).
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class BalanceTests: XCTestCase {
    /// Label 1: sites A (16 images), B (3), C (1).
    let fixtureNames = (1...16).map { "A_x_\($0).JPG" } + ["B_x_1.JPG", "B_x_2.JPG", "B_x_3.JPG", "C_x_1.JPG"]

    func testSiteID() {
        XCTAssertEqual(Balance.siteID("S12_D012525_012525_0_10_X.JPG"), "S12")
        XCTAssertEqual(Balance.siteID("lonely.jpg"), "lonely")
    }

    func testLadderOrderAndZooms() {
        let ladder = Rung.ladder(theta: 5, fact: 1.3, multiplier: 3)
        XCTAssertEqual(ladder.map(\.angle), [5, 5, 10, 10, 15, 15])
        XCTAssertEqual(ladder.map(\.flipped), [false, true, false, true, false, true])
        for (got, want) in zip(ladder.map(\.zoom), [1.3, 1.3, 1.6, 1.6, 1.9, 1.9]) {
            XCTAssertEqual(got, want, accuracy: 1e-12)
        }
        XCTAssertEqual(ladder[0].outputName(forSource: "S1_a.JPG"), "S1_a_5_-1.JPG")
        XCTAssertEqual(ladder[1].outputName(forSource: "S1_a.png"), "S1_a_5_1.JPG")
        XCTAssertEqual(Rung(angle: 7.5, zoom: 1, flipped: false).outputName(forSource: "x.jpg"), "x_7.5_-1.JPG")
    }

    func testPlanFillsSmallSitesAlongTheLadder() {
        let plan = Balance.planLabel(label: 1, images: fixtureNames, options: balanceJob(inDir: "in", outDir: "out"))
        XCTAssertEqual(plan.sites.map(\.site), ["A", "B", "C"])
        XCTAssertEqual(plan.sites.map(\.after), [16, 16, 13])
        XCTAssertEqual(plan.sites.map(\.capped), [false, false, true])
        XCTAssertEqual(plan.outputDir, "out/diffusion_data/L1/1")
        XCTAssertEqual(plan.originals.count, 20)
        // B needs 13: four full rungs of 3 (5 -1, 5 1, 10 -1, 10 1), then one image at 15 -1.
        let b = plan.copies.filter { $0.source.hasPrefix("B") }
        XCTAssertEqual(b.count, 13)
        XCTAssertEqual(
            b.map { $0.output.split(separator: "_").suffix(2).joined(separator: "_") },
            Array(repeating: "5_-1.JPG", count: 3) + Array(repeating: "5_1.JPG", count: 3)
                + Array(repeating: "10_-1.JPG", count: 3) + Array(repeating: "10_1.JPG", count: 3) + ["15_-1.JPG"])
        // C (one image) takes every rung once: count * 2 * multiplier = 12 new images.
        XCTAssertEqual(
            plan.copies.filter { $0.source.hasPrefix("C") }.map(\.output),
            (1...6).flatMap { k in ["C_x_1_\(5 * k)_-1.JPG", "C_x_1_\(5 * k)_1.JPG"] })
        XCTAssertEqual(Set(plan.copies.map(\.output)).count, plan.copies.count, "output names are unique")
    }

    func testPlanIsSeededAndReproducible() {
        let options = balanceJob(inDir: "in", outDir: "out", seed: 7)
        let a = Balance.planLabel(label: 1, images: fixtureNames, options: options)
        let b = Balance.planLabel(label: 1, images: fixtureNames.reversed(), options: options)
        XCTAssertEqual(a, b)
        // Over many seeds the partial rung of site B picks different images.
        let picks = Set(
            (0..<20).map { seed -> String in
                var o = options; o.config.seed = UInt64(seed)
                return Balance.planLabel(label: 1, images: fixtureNames, options: o).copies.first {
                    $0.output.hasSuffix("_15_-1.JPG") && $0.source.hasPrefix("B")
                }!.source
            })
        XCTAssertGreaterThan(picks.count, 1)
    }

    func testOptionsValidation() {
        XCTAssertThrowsError(try balanceJob(inDir: "a", labels: 4).config.validate())
        XCTAssertThrowsError(try balanceJob(inDir: "a", fact: 0).config.validate())
        XCTAssertThrowsError(try balanceJob(inDir: "a", multiplier: 0).config.validate())
        XCTAssertNoThrow(try balanceJob(inDir: "a", labels: 6, fact: 1.25).config.validate())
    }

    // MARK: running

    /// A raw dataset with labels 1..3 of small images: label 1 as the fixture (16/3/1).
    func makeDataset() throws -> String {
        let root = try makeTempDir(self) + "/raw"
        for (i, name) in fixtureNames.enumerated() {
            writeFile("\(root)/1/\(name)", try JPEG.encode(patternImage(width: 24, height: 8, seed: i)))
        }
        writeFile("\(root)/2/S2_a.jpg", try JPEG.encode(patternImage(width: 24, height: 8)))
        writeFile("\(root)/3/S3_a.png", try PNG.encode(patternImage(width: 24, height: 8)))
        return root
    }

    func listing(_ dir: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    func testRunWritesThePlanAndASecondRunOverwritesNothing() throws {
        let raw = try makeDataset()
        let out = (raw as NSString).deletingLastPathComponent + "/out"
        let options = balanceJob(inDir: raw, outDir: out)
        let plan = Balance.plan(scan: try Balance.scan(inDir: raw, labels: 3), options: options)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "scanning and planning (the dry run) write nothing")
        let report = try Balance.execute(plan)
        XCTAssertEqual(report.written, 20 + 25 + 2)
        XCTAssertTrue(report.failures.isEmpty)
        let label1 = listing(out + "/diffusion_data/L1/1")
        XCTAssertEqual(label1.count, 45)
        XCTAssertEqual(label1.filter { $0.hasPrefix("C_") }.count, 13)
        XCTAssertTrue(label1.contains("C_x_1_30_1.JPG"))
        let written = try ImageFile.read(out + "/diffusion_data/L1/1/C_x_1_30_1.JPG")
        XCTAssertEqual([written.width, written.height], [24, 8])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/diffusion_data/L3/3/S3_a.png"))

        // Mark one output and delete another: a rerun restores the missing one only.
        let marked = out + "/diffusion_data/L1/1/B_x_1.JPG"
        try FileManager.default.removeItem(atPath: marked)
        writeFile(marked, Data("marker".utf8))
        try FileManager.default.removeItem(atPath: out + "/diffusion_data/L1/1/C_x_1_5_-1.JPG")
        let again = try Balance.execute(plan)
        XCTAssertEqual(again.written, 1)
        XCTAssertEqual(again.existing, 46)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: marked)), Data("marker".utf8))
        XCTAssertEqual(listing(out + "/diffusion_data/L1/1").count, 45)
    }

    func testUnreadableAndNonImageFilesAreSkippedAndReported() throws {
        let raw = try makeDataset()
        writeFile(raw + "/1/.DS_Store", Data([0, 1, 2]))
        writeFile(raw + "/1/notes.txt", Data("hello".utf8))
        writeFile(raw + "/1/C_x_2.JPG", Data("not really a jpeg".utf8))
        let scan = try Balance.scan(inDir: raw, labels: 3)
        XCTAssertEqual(scan.ignored.map { ($0.path as NSString).lastPathComponent }, [".DS_Store", "notes.txt"])
        XCTAssertEqual(scan.unreadable, [SkippedFile(path: raw + "/1/C_x_2.JPG", reason: "not a JPEG or PNG image")])
        XCTAssertEqual(scan.images[1]!.count, 20, "the bad image is left out of the plan")
    }

    func testMissingOrEmptyLabelFoldersAreErrors() throws {
        let raw = try makeDataset()
        assertFileError(try Balance.scan(inDir: raw, labels: 6), path: raw + "/4", reason: "label folder is missing")
        try FileManager.default.removeItem(atPath: raw + "/2/S2_a.jpg")
        writeFile(raw + "/2/readme.txt", Data("x".utf8))
        assertFileError(try Balance.scan(inDir: raw, labels: 3), path: raw + "/2", reason: "label folder has no images")
        assertFileError(
            try Balance.scan(inDir: raw + "/nope", labels: 3), path: raw + "/nope", reason: "does not exist")
    }

    func testOutputInsideInputIsRefusedBeforeAnyWork() throws {
        let raw = try makeDataset()
        for out in [raw, raw + "/sub/dir", raw + "/./1/.."] {
            XCTAssertThrowsError(try Balance.checkFolders(balanceJob(inDir: raw, outDir: out)))
            XCTAssertFalse(FileManager.default.fileExists(atPath: raw + "/sub"))
        }
        XCTAssertNoThrow(try Balance.checkFolders(balanceJob(inDir: raw, outDir: raw + "-out")))
    }
}
