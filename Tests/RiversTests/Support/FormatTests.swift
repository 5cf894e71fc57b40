// Text for people: tables whose numbers line up.
import Foundation
import XCTest
import Rivers

final class FormatTests: XCTestCase {
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
