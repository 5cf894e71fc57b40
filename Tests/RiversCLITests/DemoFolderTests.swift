// `rivers demo` into a folder whose name looks like an option.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class DemoFolderTests: XCTestCase {
    /// `--out_dir=--weird` runs: every step gets ./--weird/..., prints it so, and finishes (one
    /// optimizer step per label, to keep it short).
    func testDemoIntoAFolderNamedLikeAnOption() throws {
        let root = try makeTempDir(self)
        let r = try runRivers(["demo", "--out_dir=--weird", "--quick", "--quiet", "--steps", "1"], in: root)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("$ rivers synthesize --out_dir ./--weird/raw "), r.out)
        XCTAssertTrue(r.out.contains("demo finished in"), r.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/--weird/report.html"))
        XCTAssertEqual(listing(root).filter { !$0.hasPrefix("--weird") }, [], "nothing beside the folder")
    }
}
