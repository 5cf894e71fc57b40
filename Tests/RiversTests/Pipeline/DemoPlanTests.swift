// The demo's command lines for a folder whose name looks like an option.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class DemoPlanTests: XCTestCase {
    /// A relative --out_dir starting with a dash reaches every step as ./NAME, so no path the demo
    /// passes can be taken for an option (a word starting with --); other folders are kept as given.
    func testAFolderNamedLikeAnOptionReachesEveryStepAsAPath() {
        let plan = DemoPlan(outDir: "--weird", seed: 1, quick: true, threads: 1)
        XCTAssertEqual(plan.outDir, "./--weird")
        XCTAssertEqual(plan.modelsDir, "./--weird/models")
        XCTAssertEqual(Array(plan.synthesizeArguments.prefix(3)), ["synthesize", "--out_dir", "./--weird/raw"])
        let lists = [
            plan.synthesizeArguments, plan.splitArguments, plan.balanceArguments,
            plan.trainArguments(folder: plan.diffusionDir + "/L1", images: 8),
            plan.inferArguments(run: plan.modelsDir + "/L1_x", label: 1, photos: 5),
            plan.augmentArguments(runs: [plan.modelsDir + "/L1_x"]), plan.evaluateArguments, plan.reportArguments,
        ]
        for words in lists {
            for word in words where word.contains("weird") {
                XCTAssertTrue(word.hasPrefix("./--weird"), "\(word) in \(words)")
            }
        }
        XCTAssertEqual(DemoPlan(outDir: "-x", seed: 1, quick: true, threads: 1).rawDir, "./-x/raw")
        for kept in ["demo", "a/--b", "/tmp/--c", "./--d"] {
            XCTAssertEqual(DemoPlan(outDir: kept, seed: 1, quick: true, threads: 1).outDir, kept)
        }
    }

    /// The quick demo's tiny models are allowed any upscale (and say theirs); the full demo's
    /// stay within augment's limit without the flag.
    func testOnlyTheQuickDemoAllowsUpscaling() {
        let quick = DemoPlan(outDir: "d", seed: 1, quick: true, threads: 1)
        XCTAssertTrue(quick.augmentArguments(runs: ["r"]).contains("--allow_upscale"))
        XCTAssertEqual(quick.upscaleText, "16x48 images upscaled 2x to 32x96")
        let full = DemoPlan(outDir: "d", seed: 1, quick: false, threads: 1)
        XCTAssertFalse(full.augmentArguments(runs: ["r"]).contains("--allow_upscale"))
        XCTAssertLessThanOrEqual(full.upscale, Augment.largestUpscale)
    }
}
