// Text for people: counts in the singular and plural, tables whose numbers line up.
import Foundation
import XCTest
import Rivers

final class FormatTests: XCTestCase {
    func testCountedIsSingularForOne() {
        XCTAssertEqual(counted(1, "image"), "1 image")
        XCTAssertEqual(counted(0, "image"), "0 images")
        XCTAssertEqual(counted(2, "thread"), "2 threads")
        XCTAssertEqual(counted(1, "more line", plural: "more lines"), "1 more line")
        XCTAssertEqual(counted(3, "copy", plural: "copies"), "3 copies")
        XCTAssertEqual(counted(1500, "step", thousands: true), "1,500 steps")
        XCTAssertEqual(counted(1, "step", thousands: true), "1 step")
    }

    func testSamplerSummariesCountTheirSteps() {
        XCTAssertEqual(DDIMSampler(steps: 1, eta: 0).summary, "1 DDIM step, eta 0")
        XCTAssertEqual(DDIMSampler(steps: 30, eta: 0).summary, "30 DDIM steps, eta 0")
    }

    /// A right-aligned first column keeps its leading spaces; no line ends in spaces.
    func testTableRightAlignsNumbersUnderTheirHeaders() {
        let table = textTable(
            [["label", "site", "before", "note"], ["1", "S1", "4", ""], ["12", "S10", "100", "capped"]],
            rightAligned: [0, 2])
        XCTAssertEqual(
            table,
            """
            label  site  before  note
                1  S1         4
               12  S10      100  capped
            """)
    }
}
