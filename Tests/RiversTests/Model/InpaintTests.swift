// RePaint: the schedule of times with jumps, and `rivers inpaint` end to end.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class InpaintTests: XCTestCase {
    /// The paper's get_schedule_jump, followed by hand for T = 5, jump_length 2, jump_n_sample 2:
    /// jump points 0 and 2 (multiples of 2 below 5 - 2), each gone back from once.
    func testScheduleWithJumpsMatchesTheHandComputedList() {
        XCTAssertEqual(
            RePaint.schedule(steps: 5, jumpLength: 2, jumpSamples: 2), [4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1])
        // Without jumps: straight down.
        XCTAssertEqual(RePaint.schedule(steps: 4, jumpLength: 1, jumpSamples: 1), [3, 2, 1, 0, -1])
        XCTAssertEqual(
            RePaint.schedule(steps: 3, jumpLength: 3, jumpSamples: 5), [2, 1, 0, -1],
            "no jump point below T - jump_length")
    }

    /// With a predictor that returns zeros the loop still runs every step, and an all-keep mask
    /// returns the real image exactly.
    func testAllKeepMaskReturnsTheImage() {
        final class Zero: NoisePredictor {
            let batch = 1, height = 2, width = 3
            var calls = 0
            func predictNoise(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, variance: Float) {
                calls += 1
                out.update(repeating: 0, count: 18)
            }
        }
        let x0 = randomArray(18, seed: 3), mask = [Float](repeating: 1, count: 6)
        let predictor = Zero()
        var rngs = [SeededGenerator(seed: 1)]
        var steps = 0
        let out = RePaint(sampler: DDIMSampler(steps: 5, eta: 1), jumpLength: 2, jumpSamples: 2).inpaint(
            predictor, x0: x0, mask: mask, rngs: &rngs
        ) { steps += 1 }
        XCTAssertEqual(out, x0)
        XCTAssertEqual(steps, 13, "14 indices, 13 moves")
        XCTAssertEqual(predictor.calls, 9, "one prediction per step down")
    }

}
