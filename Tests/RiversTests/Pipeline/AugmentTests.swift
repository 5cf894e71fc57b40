// `rivers augment`: plans checked without pixels (categories end equal, water-filling over labels
// and sites, model matching, missing models), then a small real run end to end.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class AugmentTests: XCTestCase {
    /// label -> paths, with sites and counts as given.
    func raw(_ layout: [Int: [(String, Int)]]) -> [Int: [String]] {
        var images: [Int: [String]] = [:]
        for (label, sites) in layout {
            for (site, count) in sites {
                for k in 0..<count {
                    images[label, default: []].append("/raw/\(label)/\(site)_D010125_010125_0_\(k)_X.JPG")
                }
            }
        }
        return images
    }

    func testWaterFillingRaisesTheSmallestFirst() {
        XCTAssertEqual(Augment.waterFill([5, 2, 1], total: 5, order: [0, 1, 2]), [0, 2, 3])  // 1 -> 2, then both to 4
        XCTAssertEqual(Augment.waterFill([5, 2, 1], total: 0, order: [0, 1, 2]), [0, 0, 0])
        // Ties go by the order given.
        XCTAssertEqual(Augment.waterFill([3, 3, 3], total: 2, order: [2, 0, 1]), [1, 0, 1])
        XCTAssertEqual(Augment.split(7, by: [0.5, 0.5]), [4, 3])
        XCTAssertEqual(Augment.split(10, by: [0.2, 0.3, 0.5]), [2, 3, 5])
        XCTAssertEqual(Augment.split(1, by: [0.3, 0.7]), [0, 1])
    }

    func testCategoriesEndEqualAndSitesAreBalanced() throws {
        let images = raw([
            1: [("S1", 5), ("S2", 2), ("S3", 1)], 2: [("S1", 2)], 3: [("S4", 1)],
            4: [("S1", 10)], 5: [("S2", 6)], 6: [("S3", 4)],
        ])
        let models = [1: "/runs/a", 2: "/runs/b", 3: "/runs/c"]
        let plan = try Augment.plan(images: images, models: models, options: AugmentConfig())
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
        XCTAssertEqual(try Augment.plan(images: images, models: models, options: AugmentConfig()), plan)
        let v = l3.items.first(where: \.isVariation)!
        XCTAssertEqual(v.fileName(date: "112526"), "S4_D112526_112526_0_\(v.index)_DM_VAR_L3.JPG")
        XCTAssertTrue(v.matches("S4_D010101_010101_0_\(v.index)_DM_VAR_L3.JPG"))
        XCTAssertFalse(v.matches("S4_D010101_010101_0_\(v.index)_DM_AUG_L3.JPG"))
        XCTAssertFalse(v.matches("S4_D010101_010101_0_\(v.index + 1)_DM_VAR_L3.JPG"))
    }

    func testVariationsGoToTheLeastRepresentedSites() throws {
        let images = raw([1: [("S1", 5), ("S2", 2), ("S3", 1)], 4: [("S1", 30)]])
        let plan = try Augment.plan(
            images: images, models: [1: "/r/1", 2: "/r/2", 3: "/r/3"],
            options: AugmentConfig(strengths: [0.5], probs: [1]))
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
        let plan = try Augment.plan(
            images: images, models: [4: "/r/4", 5: "/r/5", 6: "/r/6"],
            options: AugmentConfig(strengths: [1], probs: [1]))
        XCTAssertTrue(plan.items.allSatisfy { !$0.isVariation && $0.strength == 1 })
        XCTAssertEqual(plan.count(category: 1, after: true), plan.count(category: 2, after: true))
        XCTAssertThrowsError(
            try Augment.plan(images: images, models: [4: "/r/4", 5: "/r/5"], options: AugmentConfig())
        ) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "label 6 needs 1 generated image and no --weight_paths run was trained on label 6"), "\(error)")
        }
        XCTAssertThrowsError(try AugmentConfig(strengths: [1, 0.6], probs: [0.5, 0.6]).validate())
        XCTAssertThrowsError(try AugmentConfig(strengths: [1.5], probs: [1]).validate())
        XCTAssertThrowsError(try AugmentConfig(strengths: [.nan], probs: [1]).validate())
    }

    /// A raw dataset in which label 1 alone needs generated images (2 of them), and a tiny
    /// trained run of label 1: returns (in_dir, run).
    func labelOneNeedsTwo(_ root: String) throws -> (String, String) {
        for (label, count) in [1: 1, 2: 5, 3: 5, 4: 4, 5: 4, 6: 5] {
            try writeTrainingImages(root + "/raw/\(label)", count: count, width: 16, height: 8)
        }
        try writeTrainingImages(root + "/train1", count: 4)
        let dir = RunDirectory(root + "/L1_run")
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        var c = tinyTrainConfig()
        c.numEpochs = 1; c.imagesToGenerate = 0
        let load = TrainingImages.load(
            try TrainingImages.scan(root + "/train1").images, height: c.height, width: c.width)
        let run = try TrainingRun.start(
            in: dir, record: RunRecord(label: 1, inDir: root + "/train1", train: c), data: load.images)
        XCTAssertEqual(try run.train(), .finished)
        return (root + "/raw", dir.path)
    }

    /// The progress moves at every sampler step of a batch (an image's share, 1 / steps), adds up
    /// to the plan's images, and a stop asked for during a batch (pure or variation) ends it
    /// after the step under way, with nothing written.
    func testProgressAtEveryStepAndAStopWithinOneStep() throws {
        let root = try makeTempDir(self)
        let (inDir, run) = try labelOneNeedsTwo(root)
        let images = try AugmentRun.scan(inDir: inDir).images
        var settings = AugmentConfig()  // half pure generations, half variations at strength 0.6
        settings.generation.steps = 4
        let plan = try Augment.plan(images: images, models: [1: run], options: settings)
        XCTAssertEqual(plan.items.map(\.strength), [1, 0.6])
        let sampler = settings.generation.sampler(CosineSchedule())
        let variationSteps = sampler.variation(from: 0.6).steps
        XCTAssertEqual([sampler.steps, variationSteps], [4, 3])

        var calls: [Double] = []
        var events = AugmentEvents()
        events.progress = { calls.append($0) }
        let out = root + "/out"
        let report = try AugmentRun.execute(
            plan, outDir: out, outputSize: (width: 16, height: 8), generation: settings.generation, date: "010170",
            events: events)
        XCTAssertEqual(report.generated, 2)
        XCTAssertEqual(calls.count, 4 + 3, "one call per sampler step of each batch")
        XCTAssertEqual(Array(calls.prefix(4)), [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(calls.reduce(0, +), 2, accuracy: 1e-9, "the calls add up to the images")
        // A rerun finds both images there: one call for both.
        calls = []
        XCTAssertEqual(
            try AugmentRun.execute(
                plan, outDir: out, outputSize: (width: 16, height: 8), generation: settings.generation,
                date: "010170", events: events
            ).present, 24 + 2)
        XCTAssertEqual(calls, [2])

        // A stop asked for at the first step: pure generations, then variations only.
        for strengths in [[1.0], [0.6]] {
            var only = settings
            only.strengths = strengths; only.probs = [1]
            let plan = try Augment.plan(images: images, models: [1: run], options: only)
            var steps = 0
            var stopping = AugmentEvents()
            stopping.progress = { _ in steps += 1 }
            stopping.shouldStop = { steps > 0 }
            let dir = root + "/stopped\(strengths[0])"
            let stopped = try AugmentRun.execute(
                plan, outDir: dir, outputSize: (width: 16, height: 8), generation: only.generation,
                date: "010170", events: stopping)
            XCTAssertTrue(stopped.interrupted, "\(strengths)")
            XCTAssertEqual(steps, 1, "stopped within one step (\(strengths))")
            XCTAssertEqual(stopped.generated, 0)
            XCTAssertEqual(listing(dir + "/1").filter { $0.contains("_DM_") }, [], "nothing half made is written")
        }
    }

    /// Generated images are written at the raw photos' size: a model more than 2x smaller in
    /// height or width is refused before any work (naming the run, the sizes and the factor)
    /// unless allowed; up to 2x it is said, not refused.
    func testUpscalingBeyondTwiceIsRefusedUnlessAllowed() throws {
        let root = try makeTempDir(self)
        let (inDir, run) = try labelOneNeedsTwo(root)  // the model makes 8x16 images
        let plan = try Augment.plan(
            images: try AugmentRun.scan(inDir: inDir).images, models: [1: run], options: AugmentConfig())
        let within = try Augment.upscaling(plan, outputSize: (width: 32, height: 8), allow: false)
        XCTAssertEqual(within.map(\.factor), [2])
        XCTAssertEqual([within[0].modelText, within[0].factorText, within[0].outputText], ["8x16", "2.0x", "8x32"])
        XCTAssertThrowsError(try Augment.upscaling(plan, outputSize: (width: 48, height: 10), allow: false)) { e in
            XCTAssertEqual(
                "\(e)",
                "run \(run): its 8x16 images would be upscaled 3.0x to 10x48; a classifier can learn 'blurry means synthetic'; train at a larger --image_size, or pass --allow_upscale"
            )
            guard case RiversError.usage = e else { return XCTFail("a usage error (status 2), got \(e)") }
        }
        XCTAssertThrowsError(try Augment.upscaling(plan, outputSize: (width: 33, height: 8), allow: false)) { e in
            XCTAssertTrue("\(e)".contains("would be upscaled 2.1x to 8x33"), "\(e)")
        }
        let allowed = try Augment.upscaling(plan, outputSize: (width: 48, height: 10), allow: true)
        XCTAssertEqual(allowed.map(\.factor), [3])
    }
}
