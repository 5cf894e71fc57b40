// SHA-256 against the FIPS 180-2 examples (appendix B) and the empty message, in one piece and from files.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class SHA256Tests: XCTestCase {
    func testFIPSVectors() {
        let vectors: [(Data, String)] = [
            (Data("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            // 448 bits: the padding needs a second block.
            (
                Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                Data(repeating: UInt8(ascii: "a"), count: 1_000_000),
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
            ),
            (Data(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
        for (data, digest) in vectors { XCTAssertEqual(SHA256.hex(data), digest, "\(data.count) bytes") }
    }

    /// A file is read in 1 MiB chunks: one past two chunks and an odd tail must give the digest of
    /// the data in one piece, and one million 'a' from a file the FIPS digest.
    func testFilesGiveTheDigestOfTheirContent() throws {
        let dir = try makeTempDir(self)
        writeFile(dir + "/a", Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
        XCTAssertEqual(
            try SHA256.hex(file: dir + "/a"), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var rng = SeededGenerator(seed: 3)
        let data = Data((0..<(2 << 20) + 1_000_003).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        writeFile(dir + "/big", data)
        XCTAssertEqual(try SHA256.hex(file: dir + "/big"), SHA256.hex(data))
        writeFile(dir + "/empty", Data())
        XCTAssertEqual(
            try SHA256.hex(file: dir + "/empty"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        assertFileError(try SHA256.hex(file: dir + "/missing"), path: dir + "/missing", reason: "cannot be read")
        assertFileError(try SHA256.hex(file: dir), path: dir, reason: "cannot be read")
    }
}
