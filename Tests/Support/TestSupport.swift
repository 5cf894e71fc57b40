// Test helpers in one place: temporary folders, synthetic images, hand-built PNG files.
import Foundation
import XCTest
import Rivers
import RiversCPU

/// A fresh temporary folder, removed when the test ends.
public func makeTempDir(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "rivers-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A smooth, non-symmetric color pattern (gradients plus a low-frequency wave).
public func patternImage(width: Int, height: Int, seed: Int = 0) -> Image {
    var px = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let i = (y * width + x) * 3
            px[i] = UInt8((x * 255) / max(width - 1, 1))
            px[i + 1] = UInt8((y * 255) / max(height - 1, 1))
            px[i + 2] = UInt8(128 + 100 * sin(Double(x + 2 * y + seed) / 5))
        }
    }
    return Image(width: width, height: height, pixels: px)
}

/// Every pixel distinct-ish: random bytes from a seeded generator.
public func noiseImage(width: Int, height: Int, seed: UInt64 = 1) -> Image {
    var rng = SeededGenerator(seed: seed)
    return Image(
        width: width, height: height,
        pixels: (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
}

public func psnr(_ a: Image, _ b: Image) -> Double {
    precondition(a.pixels.count == b.pixels.count)
    let mse = zip(a.pixels, b.pixels).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

public func writeFile(_ path: String, _ data: Data) {
    try! FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: path, contents: data)
}

/// Asserts that `body` throws RiversError.file naming `path` with a reason containing `reason`
/// (any non-empty reason when `reason` is empty).
public func assertFileError<T>(
    _ body: @autoclosure () throws -> T, path: String, reason: String, file: StaticString = #filePath,
    line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard case RiversError.file(let p, let r)? = error as? RiversError else {
            return XCTFail("expected a file error, got \(error)", file: file, line: line)
        }
        XCTAssertEqual(p, path, file: file, line: line)
        XCTAssertTrue(
            reason.isEmpty ? !r.isEmpty : r.lowercased().contains(reason.lowercased()),
            "reason '\(r)' does not mention '\(reason)'", file: file, line: line)
    }
}

/// Builds a PNG by hand (stored, uncompressed deflate) so tests can make color types and
/// bit depths the tool's own encoder never writes. `rows` are raw scanlines without filter bytes.
public enum HandPNG {
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    public static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    public static func make(
        width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil,
        transparency: [UInt8]? = nil
    ) -> Data {
        var raw: [UInt8] = []
        for row in rows { raw.append(0); raw += row }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(b << 16 | a)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [bitDepth, colorType, 0, 0, 0])
        if let palette { out += chunk("PLTE", palette) }
        if let transparency { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", zlib)
        out += chunk("IEND", [])
        return Data(out)
    }
}

/// Seeded values in [-1, 1).
public func randomArray(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in rng.uniform() * 2 - 1 }
}

/// Asserts |a - b| <= atol + rtol * |b| element-wise, reporting the worst element.
public func assertClose(
    _ a: [Float], _ b: [Float], atol: Float, rtol: Float = 0, _ message: String = "", file: StaticString = #filePath,
    line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, "sizes differ \(message)", file: file, line: line)
    var worst = (index: -1, excess: Float(0))
    for i in 0..<min(a.count, b.count) {
        let err = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if !(err <= 0) && (worst.index < 0 || err > worst.excess || err.isNaN) { worst = (i, err) }
    }
    if worst.index >= 0 {
        XCTFail(
            "element \(worst.index): \(a[worst.index]) vs \(b[worst.index]) (atol \(atol), rtol \(rtol)) \(message)",
            file: file, line: line)
    }
}

/// A tolerance for a float32 sum of `terms` products of values of magnitude <= 1, checked
/// against a Double reference: each term and partial sum rounds with relative error 2^-24,
/// and blocked summation keeps the growth near sqrt(terms) in practice; 4 sqrt(terms) ulp of
/// the largest possible partial sum is a bound with margin that still catches any wrong term
/// (a single wrong product of typical size 0.1 to 1 exceeds it for the sizes tested).
public func sumTolerance(terms: Int) -> Float {
    4 * Float(terms).squareRoot() * Float(terms) * Float.ulpOfOne / 2 + 1e-6
}

/// Central differences of a Double function: the reference gradient for backward passes.
/// With eps = 1e-5 on smooth functions of O(1) values, truncation (eps^2 f''' / 6) and
/// rounding (1e-16 / eps) errors are both below 1e-9, far under the float tolerances used.
public func finiteDifferenceGradient(_ f: ([Double]) -> Double, at x: [Double], eps: Double = 1e-5) -> [Double] {
    var xp = x
    return (0..<x.count).map { i in
        xp[i] = x[i] + eps
        let up = f(xp)
        xp[i] = x[i] - eps
        let down = f(xp)
        xp[i] = x[i]
        return (up - down) / (2 * eps)
    }
}

/// Weighted sum sum_i r_i y_i: a scalar loss whose gradient with respect to y is r.
public func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// The `rivers` executable built beside the test bundle.
public var riversExecutable: URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0])
    while !dir.path.isEmpty && dir.path != "/" {
        dir.deleteLastPathComponent()
        let candidate = dir.appendingPathComponent("rivers")
        if FileManager.default.isExecutableFile(atPath: candidate.path) && !FileOps.isDirectory(candidate.path) {
            return candidate
        }
    }
    return URL(fileURLWithPath: "rivers-not-found")
}

/// Runs `rivers` with `args` to completion: exit status, standard output and error. `environment`
/// sets (or, with nil, removes) variables of the test's own environment.
public func runRivers(_ args: [String], in directory: String? = nil, environment: [String: String?] = [:]) throws -> (
    status: Int32, out: String, err: String
) {
    let process = Process()
    process.executableURL = riversExecutable
    process.arguments = args
    if !environment.isEmpty {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    // Standard error goes to a file, so that neither stream can fill a pipe and block the child.
    let errPath = NSTemporaryDirectory() + "rivers-stderr-" + UUID().uuidString
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let out = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try err.close()
    let e = FileManager.default.contents(atPath: errPath) ?? Data()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Every file below `dir` (relative paths, sorted): to check that a command wrote nothing.
public func listing(_ dir: String) -> [String] {
    ((FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []).sorted()
}

/// One tiny model (8x16, one epoch) per label of a raw dataset, trained by the `rivers`
/// executable; returns the run directories in label order.
public func trainTinyModels(
    raw: String, labels: ClosedRange<Int>, into models: String, file: StaticString = #filePath, line: UInt = #line
) throws -> [String] {
    for label in labels {
        let r = try runRivers([
            "train", "--in_dir", raw + "/\(label)", "--label", String(label), "--out_dir", models,
            "--image_size", "8", "16", "--widths", "8", "16", "--block_depth", "1", "--embedding_dims", "8",
            "--batch_size", "2", "--num_epochs", "1", "--images_to_generate", "0", "--quiet",
        ])
        XCTAssertEqual(r.status, 0, r.err, file: file, line: line)
    }
    return try FileManager.default.contentsOfDirectory(atPath: models).sorted().map { models + "/" + $0 }
}

/// A balance run over `inDir` with the given settings, the others at their defaults.
public func balanceJob(
    inDir: String, outDir: String = ".", labels: Int = 3, fact: Double = 1.3, multiplier: Int = 6, seed: UInt64 = 42
) -> BalanceJob {
    var c = BalanceConfig()
    c.outDir = outDir; c.labels = labels; c.fact = fact; c.multiplier = multiplier; c.seed = seed
    return BalanceJob(inDir: inDir, config: c)
}

/// Asserts that `body` refuses a setting: `key` (`section.key` when read from `path`, else the
/// flag's name) with a reason that mentions `reason`.
public func assertSettingError<T>(
    _ body: @autoclosure () throws -> T, key: String, path: String? = nil, reason: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard case RiversError.setting(let section, let k, let r, let f)? = error as? RiversError else {
            return XCTFail("expected a setting error, got \(error)", file: file, line: line)
        }
        XCTAssertEqual(path == nil ? k : "\(section).\(k)", key, file: file, line: line)
        XCTAssertEqual(f, path, file: file, line: line)
        XCTAssertTrue(r.contains(reason), "reason '\(r)' does not mention '\(reason)'", file: file, line: line)
    }
}

/// A network of 8 and 16 channels on 8x16 images, batch 2: every part of the loop, quickly.
public func tinyTrainConfig() -> TrainConfig {
    var c = TrainConfig()
    c.imageSize = [8, 16]; c.widths = [8, 16]; c.blockDepth = 1; c.embeddingDims = 8
    c.batchSize = 2; c.numEpochs = 3; c.learningRate = 1e-3
    c.imagesToGenerate = 2; c.generateDiffusionSteps = 3
    return c
}

/// `count` PNG images of `width`x`height` (each different) in `dir`.
public func writeTrainingImages(_ dir: String, count: Int, width: Int = 24, height: Int = 10, prefix: String = "S1_img")
    throws
{
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for k in 0..<count {
        try ImageFile.write(patternImage(width: width, height: height, seed: 7 * k), to: "\(dir)/\(prefix)\(k).png")
    }
}

/// A test case for numerics: its tests run their checks once per kernel path this build has
/// and this CPU runs (on an AVX-512 machine: avx512, then avx2) through `onEveryPath`, against
/// the same naive twins; a failure names the path it happened on. (XCTest cannot run a test
/// method twice, so the loop is inside each test.)
open class KernelPathTestCase: XCTestCase {
    /// The path of the run in progress.
    public private(set) var path: ISA = KernelPath.current

    /// The paths every check of these cases runs on, best first.
    public static var paths: [ISA] { KernelPath.built.filter(CPUFeatures.current.supported.contains) }

    /// Runs `body` once per path, with that path in use; the path in use is restored after.
    public func onEveryPath(_ body: () throws -> Void) rethrows {
        let saved = KernelPath.current
        defer {
            KernelPath.current = saved
            path = saved
        }
        for isa in Self.paths {
            path = isa
            KernelPath.current = isa
            try body()
        }
    }

    open override func recordFailure(
        withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool
    ) {
        super.recordFailure(
            withDescription: "[kernel path \(path.rawValue)] \(description)", inFile: filePath, atLine: lineNumber,
            expected: expected)
    }
}

/// `text` with every run of spaces and line breaks as one space: help wrapped to any width reads
/// the same.
public func oneLine(_ text: String) -> String {
    text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
}
