// File operations: paths, folders made part by part, and writes that never replace a file.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class FileOpsTests: XCTestCase {
    /// NSString's deletingLastPathComponent traps on a one-character name here; `parent` must
    /// give what it gives everywhere else.
    func testParentOfEveryShapeOfPath() {
        let cases: [(String, String)] = [
            ("a", ""), ("ab", ""), ("/a", "/"), ("./a", "."), ("a/b", "a"), ("a/b/", "a"), ("a//b", "a"),
            ("/", "/"), ("", ""), ("é", ""), ("/x/y/z.jpg", "/x/y"),
        ]
        for (path, parent) in cases { XCTAssertEqual(FileOps.parent(path), parent, path) }
    }

    func testOneLetterFoldersAreMade() throws {
        let root = try makeTempDir(self)
        let saved = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(saved) }
        FileManager.default.changeCurrentDirectoryPath(root)
        try FileOps.makeDirectory("a")
        try FileOps.makeDirectory("b/c")
        XCTAssertTrue(FileOps.isDirectory(root + "/a") && FileOps.isDirectory(root + "/b/c"))
        XCTAssertTrue(FileOps.isSameOrInside("b/c", "b"))
    }
}
