// config.default.json and the built-in defaults must say the same thing; configuration files
// and flags are checked the same way.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class DefaultsTests: XCTestCase {
    var shippedPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config.default.json").path
    }

    func testShippedConfigMatchesBuiltInDefaults() throws {
        // Strict decoding: every key of every section must be present in the file.
        let data = try Data(contentsOf: URL(fileURLWithPath: shippedPath))
        XCTAssertEqual(try JSONDecoder().decode(RiversConfig.self, from: data), RiversConfig())
        // The file has no key the configuration does not know.
        XCTAssertEqual(try RiversConfig.load(shippedPath), RiversConfig())
        // The original's defaults (PIPELINE.md sections 1-2).
        let t = TrainConfig()
        XCTAssertEqual(
            [t.numEpochs, t.batchSize, t.embeddingDims, t.blockDepth, t.imagesToGenerate, t.generateDiffusionSteps],
            [300, 8, 256, 3, 5, 30])
        XCTAssertEqual(t.imageSize, [200, 600])
        XCTAssertEqual(t.widths, [64, 96, 128, 256])
        XCTAssertEqual(
            [t.learningRate, t.ema, t.minSignalRate, t.maxSignalRate, t.validationSplit], [1e-5, 0.999, 0.01, 0.95, 0])
        let b = BalanceConfig()
        XCTAssertEqual([Double(b.labels), b.theta, b.fact, Double(b.multiplier), Double(b.seed)], [3, 5, 1.3, 6, 42])
        // Generation: DPM-Solver++(2M) on logSNR grids, a third of DDIM's passes or fewer (the
        // measured curve in README, The sampler); inpainting keeps DDIM.
        let (g, a) = (GenerateConfig().generation, AugmentConfig().generation)
        XCTAssertEqual([g.sampler, g.spacing, a.sampler, a.spacing], ["dpmpp2m", "logSNR", "dpmpp2m", "logSNR"])
        XCTAssertEqual([g.steps, a.steps], [10, 15])
        XCTAssertEqual(InpaintConfig().generation.sampler, "ddim")
        XCTAssertEqual([Double(InpaintConfig().generation.steps), InpaintConfig().generation.eta], [50, 1])
    }

    func testSettingsAreTheKeysOfEverySection() throws {
        func keys<S: ConfigSection>(_ s: S) throws -> [String] {
            Array((try JSONSerialization.jsonObject(with: try JSONEncoder().encode(s)) as! [String: Any]).keys).sorted()
        }
        func check<S: ConfigSection>(_ s: S) throws {
            XCTAssertEqual(try keys(s), S.settings.map(\.key).sorted(), S.name)
            XCTAssertEqual(Set(S.settings.map(\.key)).count, S.settings.count, "\(S.name): a key declared twice")
        }
        let c = RiversConfig()
        try check(c.balance); try check(c.train); try check(c.generate); try check(c.augment)
        try check(c.inpaint); try check(c.report); try check(c.demo); try check(c.synthesize)
        try check(c.split); try check(c.evaluate)
        // The shipped file has every section, each with every key.
        let shipped =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: shippedPath)))
            as! [String: [String: Any]]
        XCTAssertEqual(shipped.keys.sorted(), RiversConfig.sectionNames.sorted())
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as! [String: [String: Any]]
        for name in RiversConfig.sectionNames {
            XCTAssertEqual(shipped[name]!.keys.sorted(), encoded[name]!.keys.sorted(), name)
        }
    }

    func testConfigFileOverlaysAndRefusesUnknownKeys() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/c.json"
        writeFile(path, Data(#"{"train": {"num_epochs": 7, "widths": [32, 64]}}"#.utf8))
        let c = try RiversConfig.load(path)
        XCTAssertEqual(c.train.numEpochs, 7)
        XCTAssertEqual(c.train.widths, [32, 64])
        XCTAssertEqual(c.balance, BalanceConfig())
        writeFile(path, Data(#"{"train": {"num_epochz": 7}}"#.utf8))
        assertSettingError(
            try RiversConfig.load(path), key: "train.num_epochz", path: path, reason: "did you mean 'num_epochs'")
        writeFile(path, Data(#"{"trian": {}}"#.utf8))
        assertFileShapeError(try RiversConfig.load(path), path: path, reason: "has an unknown section 'trian'")
        writeFile(path, Data(#"{"train": {"batch_size": "eight"}}"#.utf8))
        assertSettingError(
            try RiversConfig.load(path), key: "train.batch_size", path: path,
            reason: "must be a whole number (1 to 1024), got \"eight\"")
        writeFile(path, Data(#"{"generate": {"eta": 2}, "augment": {"probs": [0.5, 0.6]}}"#.utf8))
        assertSettingError(try RiversConfig.load(path), key: "augment.probs", path: path, reason: "must add up to 1")
        writeFile(path, Data("not json".utf8))
        assertFileError(try RiversConfig.load(path), path: path, reason: "is not valid JSON")
        writeFile(path, Data(#"{"train": {"batch_size": 1e999}}"#.utf8))
        assertSettingError(
            try RiversConfig.load(path), key: "train.batch_size", path: path, reason: "is 1e999, past any number")
        writeFile(path, Data("[1, 2]".utf8))
        assertFileShapeError(try RiversConfig.load(path), path: path, reason: "is not a JSON object of sections")
        writeFile(path, Data(#"{"train": [1, 2]}"#.utf8))
        assertFileShapeError(try RiversConfig.load(path), path: path, reason: "section 'train' is not an object")
    }

    /// A configuration file whose shape is wrong: a setting error (status 2) naming the file.
    func assertFileShapeError<T>(_ body: @autoclosure () throws -> T, path: String, reason: String, line: UInt = #line)
    {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case RiversError.setting(_, _, _, path) = error else { return XCTFail("\(error)", line: line) }
            XCTAssertTrue("\(error)".hasPrefix("\(path): \(reason)"), "\(error)", line: line)
        }
    }

    /// A TrainConfig holding `value` at `path` is refused by `validate` with a setting error naming `name`.
    func assertRefused<V>(_ path: WritableKeyPath<TrainConfig, V>, _ value: V, _ name: String, line: UInt = #line) {
        var c = TrainConfig()
        c[keyPath: path] = value
        XCTAssertThrowsError(try c.validate(), "\(name) \(value)", line: line) { e in
            XCTAssertTrue("\(e)".contains(name), "\(e)", line: line)
            guard case RiversError.setting = e else { return XCTFail("not a setting error: \(e)", line: line) }
        }
    }

    func testRangeChecksNameTheOption() throws {
        let cases: [(WritableKeyPath<TrainConfig, Double>, Double, String)] = [
            (\.learningRate, 0, "--learning_rate"), (\.learningRate, -1, "--learning_rate"),
            (\.learningRate, .nan, "--learning_rate"),
            (\.eta, 1.5, "--eta"), (\.eta, .nan, "--eta"), (\.validationSplit, 1, "--validation_split"),
            (\.ema, .infinity, "--ema"),
            (\.minSignalRate, 0.99, "--min_signal_rate"),
        ]
        for (path, value, name) in cases { assertRefused(path, value, name) }
        let intCases: [(WritableKeyPath<TrainConfig, Int>, Int, String)] = [
            (\.numEpochs, 0, "--num_epochs"), (\.batchSize, -1, "--batch_size"), (\.blockDepth, 0, "--block_depth"),
            (\.generateDiffusionSteps, 0, "--generate_diffusion_steps"),
            (\.imagesToGenerate, -1, "--images_to_generate"),
            (\.embeddingDims, 516, "64 + 516 = 580"), (\.generateOnEpoch, -2, "--generate_on_epoch"),
        ]
        for (path, value, name) in intCases { assertRefused(path, value, name) }
        var small = TrainConfig()
        small.imageSize = [4, 12]
        XCTAssertThrowsError(try small.validate()) { XCTAssertTrue("\($0)".contains("--image_size 4 12"), "\($0)") }
        XCTAssertNoThrow(try TrainConfig().validate())
    }
}
