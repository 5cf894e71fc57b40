// `rivers split`: the plan's counts and units (from names and hashes alone), then splits on disk:
// links, untouched originals, a rerun after a kill, and refusals.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class SplitTests: XCTestCase {
    /// A scan of `names` per label, every file's content its own (hash = its path).
    func scan(_ names: [Int: [String]], sha: (String) -> String = { $0 }) -> SplitScan {
        SplitScan(
            inDir: "/in",
            files: names.flatMap { label, list in
                list.map { SplitSource(path: "\(label)/\($0)", label: label, sha256: sha("\(label)/\($0)")) }
            })
    }

    func testDatesAndSites() {
        XCTAssertEqual(Split.date("S12_D012525_012525_0_10_X.JPG"), "D012525")
        XCTAssertEqual(Split.date("S1_D7.jpg"), "D7")
        XCTAssertNil(Split.date("S1_x_D012525.jpg"), "only the field after the site")
        XCTAssertNil(Split.date("S1_D.jpg"))
        XCTAssertNil(Split.date("S1_D01a.jpg"))
        XCTAssertNil(Split.date("S1_d0101.jpg"))
        XCTAssertNil(Split.date("lonely.jpg"))
    }

    /// By image, every label gets exactly round(fraction x count) test images; a label whose target
    /// is 0 is warned about.
    func testImageSplitHitsEveryLabelsTarget() throws {
        let counts = [1: 10, 2: 7, 3: 3, 4: 1, 5: 2]
        let s = scan(counts.mapValues { n in (0..<n).map { "S\($0 % 3)_D0101_\($0).jpg" } })
        for fraction in [0.2, 0.5, 0.7] {
            let plan = try Split.plan(s, config: SplitConfig(testFraction: fraction, by: .image, seed: 5))
            for c in plan.labels {
                let target = Int((fraction * Double(counts[c.label]!)).rounded())
                XCTAssertEqual(
                    [c.images, c.test, c.train, c.target], [counts[c.label]!, target, c.images - target, target])
                XCTAssertEqual(c.units, c.images)
            }
            XCTAssertEqual(plan.units, 23)
            XCTAssertEqual(plan.trainCount + plan.testCount, 23)
        }
        // 0.2 x 1 and 0.2 x 2 round to 0: labels 4 and 5 have no test image; 0.7 x 1 rounds to 1.
        let plan = try Split.plan(s, config: SplitConfig(testFraction: 0.2, by: .image))
        XCTAssertEqual(
            plan.warnings, ["label 4 has no test images (1 image)", "label 5 has no test images (2 images)"])
        let most = try Split.plan(s, config: SplitConfig(testFraction: 0.7, by: .image))
        XCTAssertEqual(most.warnings, ["label 4 has no train images (1 image)"])
    }

    /// Sites S0..S5 photographed on dates D1..D3, some under two labels, plus undated names: by
    /// group no (site, date) group is cut, undated images go alone; by site no site is cut.
    func testGroupsAndSitesAreNeverCut() throws {
        var names: [Int: [String]] = [:]
        for label in 1...4 {
            for site in 0..<6 where (site + label) % 3 != 0 {
                for date in 1...3 {
                    for k in 0..<(1 + (site * date + label) % 3) {
                        names[label, default: []].append("S\(site)_D\(date)_\(label)_\(k).jpg")
                    }
                }
            }
            names[label, default: []] += ["S0_x_\(label).jpg", "S0_y_\(label).jpg"]
        }
        let s = scan(names)
        for unit in [SplitUnit.group, .site] {
            for seed: UInt64 in 0..<8 {
                let plan = try Split.plan(s, config: SplitConfig(testFraction: 0.25, by: unit, seed: seed))
                var sides: [String: Set<String>] = [:]
                for e in plan.manifest.entries {
                    let key = unit == .site ? e.site : e.date.map { e.site + "_" + $0 } ?? e.path
                    sides[key, default: []].insert(e.side)
                }
                XCTAssertTrue(sides.values.allSatisfy { $0.count == 1 }, "\(unit) seed \(seed): a unit was cut")
                XCTAssertEqual(plan.units, sides.count)
                XCTAssertGreaterThan(plan.testCount, 0)
                XCTAssertGreaterThan(plan.trainCount, plan.testCount)
            }
        }
        // Undated names are units of their own; a group spans labels.
        let plan = try Split.plan(s, config: SplitConfig(testFraction: 0.25, by: .group))
        XCTAssertEqual(plan.units, 6 * 3 + 8)
        XCTAssertEqual(Split.date("S0_x_1.jpg"), nil)
    }

    /// The same seed gives the same split whatever order the files come in; other seeds other splits.
    func testSeededAndReproducible() throws {
        let names = (1...3).reduce(into: [Int: [String]]()) { d, label in
            d[label] = (0..<12).map { "S\($0 % 4)_D\($0 / 4)_\(label)_\($0).jpg" }
        }
        let config = SplitConfig(testFraction: 0.3, by: .group, seed: 9)
        let a = try Split.plan(scan(names), config: config)
        var shuffled = scan(names)
        shuffled.files.reverse()
        XCTAssertEqual(a, try Split.plan(shuffled, config: config))
        let testSets = try Set(
            (0..<10).map { seed -> [String] in
                try Split.plan(scan(names), config: SplitConfig(testFraction: 0.3, by: .group, seed: UInt64(seed)))
                    .manifest.entries.filter { $0.side == SplitManifest.test }.map(\.path)
            })
        XCTAssertGreaterThan(testSets.count, 5, "seeds draw different groups")
    }

    /// Identical files stay on one side, whatever their units and labels, and are counted; identical
    /// files under two labels are warned about.
    func testIdenticalFilesStayOnOneSide() throws {
        // Every third image of label 1 has a twin in label 2 (other site, other date).
        let names: [Int: [String]] = [
            1: (0..<30).map { "A\($0 % 5)_D1_\($0).jpg" }, 2: (0..<30).map { "B\($0 % 5)_D2_\($0).jpg" },
        ]
        func sha(_ path: String) -> String {
            let n = Int(path.split(separator: "_").last!.dropLast(4))!
            return n % 3 == 0 ? "twin\(n)" : path
        }
        for unit in SplitUnit.allCases {
            for seed: UInt64 in 0..<6 {
                let plan = try Split.plan(
                    scan(names, sha: sha), config: SplitConfig(testFraction: 0.5, by: unit, seed: seed))
                XCTAssertEqual(plan.duplicates, 10)
                let sides = Dictionary(grouping: plan.manifest.entries, by: \.sha256).mapValues { Set($0.map(\.side)) }
                XCTAssertTrue(
                    sides.values.allSatisfy { $0.count == 1 }, "\(unit) seed \(seed): a content on both sides")
                XCTAssertGreaterThan(plan.testCount, 0)
            }
        }
        let plan = try Split.plan(scan(names, sha: sha), config: SplitConfig(by: .image))
        XCTAssertEqual(plan.warnings.count, 10)
        XCTAssertEqual(
            plan.warnings[0], "1/A0_D1_0.jpg, 2/B0_D2_0.jpg are identical but labelled 1 and 2 (kept on one side)")
    }

    func testOneNameTwiceInALabelIsRefused() {
        let s = scan([1: ["a/S1_D1_x.jpg", "b/S1_D1_x.jpg", "S1_D1_y.jpg"], 2: ["S1_D1_x.jpg"]])
        assertFileError(
            try Split.plan(s, config: SplitConfig()), path: "/in/1/a/S1_D1_x.jpg",
            reason: "and /in/1/b/S1_D1_x.jpg would both be S1_D1_x.jpg of label 1")
    }

    // MARK: - On disk

    /// The sample dataset (40 images, 6 labels) at 24x8, plus an image in a subfolder and a file
    /// that is not an image.
    func makeRaw(_ root: String) throws -> String {
        let raw = root + "/raw"
        try SampleDataset.write(to: raw, labels: 6, width: 24, height: 8)
        writeFile(
            raw + "/3/more/S9_D0301_a.PNG", try ImageFile.encode(patternImage(width: 24, height: 8), path: "x.png"))
        writeFile(raw + "/3/notes.txt", Data("notes".utf8))
        return raw
    }

    /// Every file below `dir` with its content.
    func contents(_ dir: String) -> [String: Data] {
        Dictionary(
            uniqueKeysWithValues: listing(dir).compactMap { p in
                FileOps.isDirectory(dir + "/" + p) ? nil : (p, FileManager.default.contents(atPath: dir + "/" + p)!)
            })
    }

    func testSplitOnDiskLinksEveryFileAndLeavesTheOriginals() throws {
        let root = try makeTempDir(self)
        let raw = try makeRaw(root)
        let before = contents(raw)
        let s = try Split.scan(inDir: raw)
        XCTAssertEqual(s.files.count, 41)
        XCTAssertTrue(s.files.contains { $0.path == "3/more/S9_D0301_a.PNG" })
        XCTAssertEqual(s.skipped.map(\.path), [raw + "/3/notes.txt"])
        XCTAssertEqual(s.files.first { $0.path == "3/notes.txt" }, nil)
        let plan = try Split.plan(s, config: SplitConfig())
        let out = root + "/out"
        let report = try Split.execute(plan, outDir: out)
        XCTAssertEqual(report, SplitReport(linked: 41, copied: 0, existing: 0, interrupted: false))
        XCTAssertEqual(try SplitManifest.read(out), plan.manifest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/split.partial.json"))
        XCTAssertEqual(plan.manifest.inDir, FileOps.canonicalPath(raw))
        for e in plan.manifest.entries {
            let data = FileManager.default.contents(atPath: out + "/" + e.output)
            XCTAssertEqual(data, before[e.path], e.output)
            XCTAssertEqual(SHA256.hex(data ?? Data()), e.sha256)
            XCTAssertEqual(e.output, "\(e.side)/\(e.label)/\((e.path as NSString).lastPathComponent)")
            var a = stat(), b = stat()
            XCTAssertEqual(stat(out + "/" + e.output, &a), 0)
            XCTAssertEqual(stat(raw + "/" + e.path, &b), 0)
            XCTAssertEqual(a.st_ino, b.st_ino, "\(e.output) is a hard link to its source")
            XCTAssertEqual(a.st_nlink, 2, e.output)
        }
        XCTAssertEqual(
            Set(listing(out).filter { $0.hasSuffix("JPG") || $0.hasSuffix("PNG") }),
            Set(plan.manifest.entries.map(\.output)))
        XCTAssertEqual(contents(raw), before, "the originals are untouched")
        // A rerun finds everything in place.
        let again = try Split.execute(try Split.plan(try Split.scan(inDir: raw), config: SplitConfig()), outDir: out)
        XCTAssertEqual(again, SplitReport(linked: 0, copied: 0, existing: 41, interrupted: false))
    }

    /// A run killed midway left split.partial.json and part of the files: a rerun places the rest
    /// and writes split.json. A file in the way with other content is never replaced.
    func testRerunCompletesWhatAKilledRunLeft() throws {
        let root = try makeTempDir(self)
        let raw = try makeRaw(root)
        let out = root + "/out"
        let plan = try Split.plan(try Split.scan(inDir: raw), config: SplitConfig(by: .image))
        _ = try Split.execute(plan, outDir: out)
        try FileManager.default.moveItem(atPath: out + "/split.json", toPath: out + "/split.partial.json")
        let removed = plan.manifest.entries.prefix(7).map(\.output)
        for output in removed { try FileManager.default.removeItem(atPath: out + "/" + output) }
        XCTAssertThrowsError(try SplitManifest.read(out)) { error in
            XCTAssertTrue("\(error)".contains("stopped before it finished"), "\(error)")
        }
        let report = try Split.execute(plan, outDir: out)
        XCTAssertEqual(report, SplitReport(linked: 7, copied: 0, existing: 34, interrupted: false))
        XCTAssertEqual(try SplitManifest.read(out), plan.manifest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/split.partial.json"))

        // Another file where an output belongs: refused before anything is placed, and kept.
        try FileManager.default.removeItem(atPath: out + "/" + removed[0])
        try FileManager.default.removeItem(atPath: out + "/" + removed[1])
        writeFile(out + "/" + removed[0], Data("not the photo".utf8))
        assertFileError(
            try Split.execute(plan, outDir: out), path: out + "/" + removed[0],
            reason: "already exists with other content")
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/" + removed[0]), Data("not the photo".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/" + removed[1]))
    }

    /// A folder holding another split, or other files, is refused untouched.
    func testOtherSplitsAndOtherFoldersAreRefused() throws {
        let root = try makeTempDir(self)
        let raw = try makeRaw(root)
        let out = root + "/out"
        _ = try Split.execute(try Split.plan(try Split.scan(inDir: raw), config: SplitConfig(seed: 42)), outDir: out)
        let before = listing(out)
        let other = try Split.plan(try Split.scan(inDir: raw), config: SplitConfig(testFraction: 0.3, seed: 7))
        XCTAssertThrowsError(try Split.execute(other, outDir: out)) { error in
            guard case RiversError.usage(let message)? = error as? RiversError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("made with --test_fraction 0.2 --seed 42"), message)
        }
        writeFile(raw + "/2/S7_D0201_new.jpg", try ImageFile.encode(patternImage(width: 24, height: 8), path: "x.jpg"))
        let grown = try Split.plan(try Split.scan(inDir: raw), config: SplitConfig(seed: 42))
        assertFileError(
            try Split.execute(grown, outDir: out), path: out + "/split.json",
            reason: "since then 1 added (2/S7_D0201_new.jpg)")
        XCTAssertEqual(listing(out), before)
        // Not empty and not a split.
        writeFile(root + "/full/keep.txt", Data("x".utf8))
        assertFileError(try Split.execute(grown, outDir: root + "/full"), path: root + "/full", reason: "is not empty")
        XCTAssertEqual(listing(root + "/full"), ["keep.txt"])
        // Inside the input, or holding it.
        XCTAssertThrowsError(try Split.execute(grown, outDir: raw + "/out")) { error in
            XCTAssertEqual(
                error as? RiversError,
                .usage(
                    "--out_dir \(raw)/out is inside --in_dir \(FileOps.canonicalPath(raw)): the input is never written; choose another folder"
                ))
        }
        XCTAssertThrowsError(try Split.execute(grown, outDir: root))
        XCTAssertEqual(listing(raw).filter { $0.hasPrefix("out") }, [])
        assertFileError(try SplitManifest.read(root), path: root + "/split.json", reason: "does not exist")
    }
}
