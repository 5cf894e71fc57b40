// `rivers augment`: plans checked without pixels (categories end equal, water-filling over labels
// and sites, model matching, missing models), then a small real run end to end.
import Foundation
import XCTest
import Rivers

final class AugmentTests: XCTestCase {
    /// label -> paths, with sites and counts as given.
    func raw(_ layout: [Int: [(String, Int)]]) -> [Int: [String]] {
        var images: [Int: [String]] = [:]
        for (label, sites) in layout {
            for (site, count) in sites {
                for k in 0..<count { images[label, default: []].append("/raw/\(label)/\(site)_D010125_010125_0_\(k)_X.JPG") }
            }
        }
        return images
    }

    func testWaterFillingRaisesTheSmallestFirst() {
        XCTAssertEqual(Augment.waterFill([5, 2, 1], total: 5, order: [0, 1, 2]), [0, 2, 3]) // 1 -> 2, then both to 4
        XCTAssertEqual(Augment.waterFill([5, 2, 1], total: 0, order: [0, 1, 2]), [0, 0, 0])
        // Ties go by the order given.
        XCTAssertEqual(Augment.waterFill([3, 3, 3], total: 2, order: [2, 0, 1]), [1, 0, 1])
        XCTAssertEqual(Augment.split(7, by: [0.5, 0.5]), [4, 3])
        XCTAssertEqual(Augment.split(10, by: [0.2, 0.3, 0.5]), [2, 3, 5])
        XCTAssertEqual(Augment.split(1, by: [0.3, 0.7]), [0, 1])
    }

    func testCategoriesEndEqualAndSitesAreBalanced() throws {
        let images = raw([1: [("S1", 5), ("S2", 2), ("S3", 1)], 2: [("S1", 2)], 3: [("S4", 1)],
                          4: [("S1", 10)], 5: [("S2", 6)], 6: [("S3", 4)]])
        let models = [1: "/runs/a", 2: "/runs/b", 3: "/runs/c"]
        let plan = try Augment.plan(images: images, models: models, options: AugmentOptions())
        XCTAssertEqual(plan.count(category: 1, after: false), 11)
        XCTAssertEqual(plan.count(category: 2, after: false), 20)
        XCTAssertEqual(plan.count(category: 1, after: true), 20, "the smaller category gets the difference")
        XCTAssertEqual(plan.count(category: 2, after: true), 20)
        // Water-filling over labels 1, 2, 3 (8, 2, 1) with 9: 3 -> 2, then 2 and 3 -> 6 (9 used): 8, 6, 6.
        XCTAssertEqual(plan.labels.map(\.after), [8, 6, 6, 10, 6, 4])
        XCTAssertEqual(plan.labels.map { $0.items.count }, [0, 4, 5, 0, 0, 0])
        // Label 3 gets 5: half and half (3 pure by the largest remainder, 2 variations of its only site).
        let l3 = plan.labels[2]
        XCTAssertEqual(l3.items.filter { !$0.isVariation }.count, 3)
        XCTAssertEqual(l3.items.filter(\.isVariation).map(\.site), ["S4", "S4"])
        XCTAssertEqual(l3.items.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertTrue(l3.items.filter(\.isVariation).allSatisfy { $0.strength == 0.6 && $0.source!.contains("/S4_") })
        XCTAssertEqual(l3.sites.map(\.site), ["S4", "S0"])
        XCTAssertEqual(l3.sites.map(\.after), [3, 3])
        XCTAssertEqual(l3.model, "/runs/c")
        XCTAssertNil(plan.labels[0].model, "label 1 needs nothing, so its model is not used")
        // The same seed gives the same plan; names are date-free to match.
        XCTAssertEqual(try Augment.plan(images: images, models: models, options: AugmentOptions()), plan)
        let v = l3.items.first(where: \.isVariation)!
        XCTAssertEqual(v.fileName(date: "112526"), "S4_D112526_112526_0_\(v.index)_DM_VAR_L3.JPG")
        XCTAssertTrue(v.matches("S4_D010101_010101_0_\(v.index)_DM_VAR_L3.JPG"))
        XCTAssertFalse(v.matches("S4_D010101_010101_0_\(v.index)_DM_AUG_L3.JPG"))
        XCTAssertFalse(v.matches("S4_D010101_010101_0_\(v.index + 1)_DM_VAR_L3.JPG"))
    }

    func testVariationsGoToTheLeastRepresentedSites() throws {
        let images = raw([1: [("S1", 5), ("S2", 2), ("S3", 1)], 4: [("S1", 30)]])
        let plan = try Augment.plan(images: images, models: [1: "/r/1", 2: "/r/2", 3: "/r/3"], options: AugmentOptions(strengths: [0.5], probs: [1]))
        // Category 1 has 8, category 2 has 30: labels 2 and 3 (0 images) are raised to 8 first,
        // then all three to 10.
        XCTAssertEqual(plan.labels.map(\.items.count), [2, 10, 10, 0, 0, 0])
        // Label 1's 2 variations go to S3 (1 -> 2), then S2 or S3 (tied at 2): never to S1.
        let sites = plan.labels[0].sites
        XCTAssertEqual(sites.first { $0.site == "S1" }!.generated, 0)
        XCTAssertEqual(sites.first { $0.site == "S3" }!.generated + sites.first { $0.site == "S2" }!.generated, 2)
        XCTAssertGreaterThanOrEqual(sites.first { $0.site == "S3" }!.generated, 1)
        // A label without real images gets pure generations instead of variations.
        XCTAssertTrue(plan.labels[1].items.allSatisfy { !$0.isVariation && $0.site == "S0" })
    }

    func testPureGenerationOnlyAndMissingModels() throws {
        // Category 2 (3 + 1 + 0) is one short of category 1 (6): label 6, with none, gets it.
        let images = raw([1: [("S1", 2)], 2: [("S1", 2)], 3: [("S1", 2)], 4: [("S1", 3)], 5: [("S2", 1)]])
        let plan = try Augment.plan(images: images, models: [4: "/r/4", 5: "/r/5", 6: "/r/6"], options: AugmentOptions(strengths: [1], probs: [1]))
        XCTAssertTrue(plan.items.allSatisfy { !$0.isVariation && $0.strength == 1 })
        XCTAssertEqual(plan.count(category: 1, after: true), plan.count(category: 2, after: true))
        XCTAssertThrowsError(try Augment.plan(images: images, models: [4: "/r/4", 5: "/r/5"], options: AugmentOptions())) { error in
            XCTAssertTrue("\(error)".contains("label 6 needs 1 generated images and no --weight_paths run was trained on label 6"), "\(error)")
        }
        XCTAssertThrowsError(try AugmentOptions(strengths: [1, 0.6], probs: [0.5, 0.6]).validate())
        XCTAssertThrowsError(try AugmentOptions(strengths: [1.5], probs: [1]).validate())
        XCTAssertThrowsError(try AugmentOptions(strengths: [.nan], probs: [1]).validate())
    }

    /// Synthesized raw data, tiny models for the labels of the smaller category, a real run: the
    /// categories end equal on disk, the input is untouched, a rerun generates nothing, a missing
    /// model stops everything before any work.
    func testAugmentEndToEnd() throws {
        let root = try makeTempDir(self)
        try SampleDataset.write(to: root + "/raw", labels: 6, width: 24, height: 8)
        let rawBefore = listing(root + "/raw")
        // Category 1 (labels 1-3: 7 + 5 + 5) is smaller than category 2 (9 + 7 + 7).
        let runs = try trainTinyModels(raw: root + "/raw", labels: 1...3, into: root + "/models")
        XCTAssertEqual(runs.count, 3)
        let out = root + "/balanced"
        let missing = try runRivers(["augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths", runs[0], runs[2]])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("label 2 needs"), missing.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let dry = try runRivers(["augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths"] + runs.reversed() + ["--dry_run"])
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertTrue(dry.out.contains("dry run: 6 images would be generated"), dry.out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let args = ["augment", "--in_dir", root + "/raw", "--out_dir", out, "--weight_paths"] + runs.reversed()
            + ["--generate_diffusion_steps", "3", "--quiet"]
        let r = try runRivers(args)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("40 originals copied, 6 images generated at 24x8, 0 already present"), r.out)
        let counts = (1...6).map { listing(out + "/\($0)").filter { $0.hasSuffix(".JPG") }.count }
        XCTAssertEqual(counts[0..<3].reduce(0, +), counts[3..<6].reduce(0, +), "\(counts)")
        let generated = (1...3).flatMap { l in listing(out + "/\(l)").filter { $0.contains("_DM_") } }
        XCTAssertEqual(generated.count, 6)
        XCTAssertTrue(generated.contains { $0.hasPrefix("S0_") && $0.contains("_DM_AUG_") }, "\(generated)")
        XCTAssertTrue(generated.contains { !$0.hasPrefix("S0_") && $0.contains("_DM_VAR_") }, "\(generated)")
        let sample = try ImageFile.read(out + "/2/" + generated.filter { $0.hasSuffix("_L2.JPG") }[0])
        XCTAssertEqual([sample.width, sample.height], [24, 8], "written at the raw images' size")
        XCTAssertEqual(listing(root + "/raw"), rawBefore, "the input is untouched")
        let again = try runRivers(args)
        XCTAssertEqual(again.status, 0, again.err)
        XCTAssertTrue(again.out.contains("0 originals copied, 0 images generated at 24x8, 46 already present"), again.out)
    }
}
