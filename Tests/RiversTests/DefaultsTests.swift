// config.default.json and the built-in defaults must say the same thing.
import Foundation
import XCTest
import Rivers

final class DefaultsTests: XCTestCase {
    func testShippedConfigMatchesBuiltInDefaults() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("config.default.json").path
        let config = try Defaults.parseConfig(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        let balance = try XCTUnwrap(config["balance"])
        XCTAssertEqual(balance["out_dir"] as? String, Defaults.balanceOutDir)
        XCTAssertEqual(Set(balance.keys), Set(Defaults.balance.keys).union(["out_dir"]))
        for (key, value) in Defaults.balance {
            XCTAssertEqual((balance[key] as? NSNumber)?.doubleValue, value, key)
        }
        let options = BalanceOptions(inDir: "x")
        XCTAssertEqual([Double(options.labels), options.theta, options.fact, Double(options.multiplier), Double(options.seed)],
                       ["labels", "theta", "fact", "multiplier", "seed"].map { Defaults.balance[$0]! })
    }
}
