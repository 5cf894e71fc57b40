// The synthetic stream photos: deterministic, unequal like real data, and a label measure that
// follows the flow label.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class SyntheticDataTests: XCTestCase {
    func testScenesAreDeterministicAndVary() {
        let a = SyntheticRiver.image(width: 60, height: 20, flowLabel: 3, site: 2, seed: 7)
        XCTAssertEqual(
            a, SyntheticRiver.image(width: 60, height: 20, flowLabel: 3, site: 2, seed: 7),
            "same arguments, same pixels")
        XCTAssertNotEqual(
            a, SyntheticRiver.image(width: 60, height: 20, flowLabel: 3, site: 2, seed: 8), "another photo of the site")
        XCTAssertNotEqual(
            a, SyntheticRiver.image(width: 60, height: 20, flowLabel: 3, site: 5, seed: 7), "another site")
        XCTAssertNotEqual(
            a, SyntheticRiver.image(width: 60, height: 20, flowLabel: 4, site: 2, seed: 7), "another flow")
    }

    func testDatasetBytesAreFixedBySeed() throws {
        let one = try makeTempDir(self), two = try makeTempDir(self)
        try SampleDataset.write(to: one, labels: 6, width: 30, height: 10, seed: 3)
        try SampleDataset.write(to: two, labels: 6, width: 30, height: 10, seed: 3)
        let files = listing(one).filter { $0.hasSuffix(".JPG") }
        XCTAssertEqual(files.count, 40)
        XCTAssertEqual(files, listing(two).filter { $0.hasSuffix(".JPG") })
        for f in files {
            XCTAssertEqual(
                FileManager.default.contents(atPath: one + "/" + f),
                FileManager.default.contents(atPath: two + "/" + f), f)
        }
    }

    /// Unequal counts across labels and sites, category 1 (labels 1-3) the smaller, and sites that
    /// recur across labels (a camera sees its stream at several flows).
    func testLayoutIsUnbalancedLikeRealData() {
        let counts = (1...6).map { l in SampleDataset.layout[l]!.reduce(0) { $0 + $1.count } }
        XCTAssertLessThan(counts[0..<3].reduce(0, +), counts[3..<6].reduce(0, +))
        XCTAssertGreaterThan(Set(counts).count, 2, "labels differ in size")
        for l in 1...6 {
            XCTAssertGreaterThan(Set(SampleDataset.layout[l]!.map(\.count)).count, 1, "label \(l) has unequal sites")
        }
        let sitesPerLabel = (1...6).map { Set(SampleDataset.layout[$0]!.map(\.site)) }
        XCTAssertTrue(sitesPerLabel[0].intersection(sitesPerLabel[3]).count > 0, "a site seen at low and high flow")
        let names = SampleDataset.names(label: 5)
        XCTAssertEqual(Set(names.map(\.name)).count, names.count, "names are unique")
        XCTAssertEqual(
            names.map { Balance.siteID($0.name) }, names.map { "S\($0.site)" }, "the site id is the name's first part")
    }

    /// The measure counts exactly the pixels whose blue exceeds red by 12 or more.
    func testWaterFractionCountsWaterColoredPixels() {
        let pixels: [UInt8] = [10, 50, 22, /**/ 10, 50, 21, /**/ 200, 10, 255, /**/ 0, 0, 0]
        XCTAssertEqual(SyntheticRiver.waterFraction(Image(width: 2, height: 2, pixels: pixels)), 0.5)
        XCTAssertEqual(SyntheticRiver.waterFraction(Image(width: 1, height: 1, pixels: [0, 0, 255])), 1)
    }

    /// Averaged over the sites, water rises with the flow label, at full size and at the demo's
    /// 32x96 alike. (The step from one label to the next is at least 0.01 over 6 sites and 3
    /// photos each; the same-site differences the labels make are far above that.)
    func testWaterFractionRisesWithTheLabel() {
        var means: [Double] = []
        for label in 1...6 {
            var sum = 0.0, n = 0
            for site in 1...6 {
                for seed in 0..<3 {
                    let image = SyntheticRiver.image(
                        width: 192, height: 64, flowLabel: label, site: site, seed: UInt64(seed))
                    sum += SyntheticRiver.waterFraction(Geometry.resizeBilinear(image, width: 96, height: 32))
                    n += 1
                }
            }
            means.append(sum / Double(n))
        }
        for l in 1..<6 { XCTAssertGreaterThan(means[l], means[l - 1] + 0.01, "label \(l + 1) against \(l): \(means)") }
        XCTAssertLessThan(means[0], 0.15, "low flow: mostly exposed bed")
        XCTAssertGreaterThan(means[5], 0.35, "bank-full")
    }
}
