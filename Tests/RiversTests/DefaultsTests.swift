// config.default.json and the built-in defaults must say the same thing; configuration files
// and flags are checked the same way.
import Foundation
import XCTest
import Rivers

final class DefaultsTests: XCTestCase {
    var shippedPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
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
        XCTAssertEqual([t.numEpochs, t.batchSize, t.embeddingDims, t.blockDepth, t.imagesToGenerate, t.generateDiffusionSteps],
                       [300, 8, 256, 3, 5, 30])
        XCTAssertEqual(t.imageSize, [200, 600])
        XCTAssertEqual(t.widths, [64, 96, 128, 256])
        XCTAssertEqual([t.learningRate, t.ema, t.minSignalRate, t.maxSignalRate, t.validationSplit], [1e-5, 0.999, 0.01, 0.95, 0])
        let options = BalanceOptions(inDir: "x")
        let b = BalanceConfig()
        XCTAssertEqual([Double(options.labels), options.theta, options.fact, Double(options.multiplier), Double(options.seed)],
                       [Double(b.labels), b.theta, b.fact, Double(b.multiplier), Double(b.seed)])
    }

    func testSettingsAreTheCodingKeys() throws {
        func keys<S: ConfigSection>(_ s: S) throws -> Set<String> {
            Set((try JSONSerialization.jsonObject(with: try JSONEncoder().encode(s)) as! [String: Any]).keys)
        }
        XCTAssertEqual(try keys(TrainConfig()), Set(TrainConfig.settings.map(\.name)))
        XCTAssertEqual(try keys(BalanceConfig()), Set(BalanceConfig.settings.map(\.name)))
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
        assertFileError(try RiversConfig.load(path), path: path, reason: "did you mean 'num_epochs'")
        writeFile(path, Data(#"{"trian": {}}"#.utf8))
        assertFileError(try RiversConfig.load(path), path: path, reason: "unknown section 'trian'")
        writeFile(path, Data(#"{"train": {"batch_size": "eight"}}"#.utf8))
        assertFileError(try RiversConfig.load(path), path: path, reason: "'train.batch_size' has a value of the wrong type")
        writeFile(path, Data("not json".utf8))
        assertFileError(try RiversConfig.load(path), path: path, reason: "not a JSON object")
    }

    func testRangeChecksNameTheOption() throws {
        let cases: [(WritableKeyPath<TrainConfig, Double>, Double, String)] = [
            (\.learningRate, 0, "--learning_rate"), (\.learningRate, -1, "--learning_rate"), (\.learningRate, .nan, "--learning_rate"),
            (\.eta, 1.5, "--eta"), (\.eta, .nan, "--eta"), (\.validationSplit, 1, "--validation_split"), (\.ema, .infinity, "--ema"),
            (\.minSignalRate, 0.99, "--min_signal_rate"),
        ]
        for (path, value, name) in cases {
            var c = TrainConfig()
            c[keyPath: path] = value
            XCTAssertThrowsError(try c.validate(), "\(name) \(value)") { e in
                XCTAssertTrue((e as? UsageError)?.description.contains(name) ?? false, "\(e)")
            }
        }
        let intCases: [(WritableKeyPath<TrainConfig, Int>, Int, String)] = [
            (\.numEpochs, 0, "--num_epochs"), (\.batchSize, -1, "--batch_size"), (\.blockDepth, 0, "--block_depth"),
            (\.generateDiffusionSteps, 0, "--generate_diffusion_steps"), (\.imagesToGenerate, -1, "--images_to_generate"),
            (\.embeddingDims, 516, "64 + 516 = 580"), (\.generateOnEpoch, -2, "--generate_on_epoch"),
        ]
        for (path, value, name) in intCases {
            var c = TrainConfig()
            c[keyPath: path] = value
            XCTAssertThrowsError(try c.validate(), "\(name) \(value)") { e in
                XCTAssertTrue((e as? UsageError)?.description.contains(name) ?? false, "\(e)")
            }
        }
        var small = TrainConfig()
        small.imageSize = [4, 12]
        XCTAssertThrowsError(try small.validate()) { XCTAssertTrue("\($0)".contains("--image_size 4 12"), "\($0)") }
        XCTAssertNoThrow(try TrainConfig().validate())
    }
}
