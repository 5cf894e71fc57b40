// Image geometry against hand-computed expectations.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class GeometryTests: XCTestCase {
    func testFlipTwiceIsIdentityAndFlipMirrors() {
        let image = noiseImage(width: 7, height: 3)
        let flipped = Geometry.flipHorizontal(image)
        XCTAssertEqual(Geometry.flipHorizontal(flipped), image)
        XCTAssertEqual(flipped[0, 1, 2], image[6, 1, 2])
    }

    func testNinetyDegreesCounterClockwise() {
        // On a square image with zoom 1 every source position is a whole pixel, so bilinear
        // sampling is exact: out(x, y) = in(cx + (y - cy), cy - (x - cx)), i.e. in(y, n-1-x).
        let n = 5
        let image = noiseImage(width: n, height: n)
        let out = Geometry.rotateZoomCrop(image, degrees: 90, zoom: 1)
        for y in 0..<n {
            for x in 0..<n {
                for c in 0..<3 {
                    XCTAssertEqual(out[x, y, c], image[n - 1 - y, x, c], "pixel (\(x), \(y))")
                }
            }
        }
        // The top-right corner's content moves to the top-left: counter-clockwise, as OpenCV.
        XCTAssertEqual(out[0, 0, 0], image[n - 1, 0, 0])
    }

    func testZoomKeepsTheCentrePixel() {
        let image = noiseImage(width: 21, height: 9)
        for (angle, zoom) in [(0.0, 1.7), (5.0, 1.3), (-30.0, 2.8)] {
            let out = Geometry.rotateZoomCrop(image, degrees: angle, zoom: zoom)
            for c in 0..<3 { XCTAssertEqual(out[10, 4, c], image[10, 4, c], "angle \(angle)") }
        }
    }

    func testZeroRotationUnitZoomIsIdentity() {
        let image = noiseImage(width: 13, height: 6)
        XCTAssertEqual(Geometry.rotateZoomCrop(image, degrees: 0, zoom: 1), image)
    }

    func testFlipFirstEqualsFlipThenRotate() {
        // The fused flip samples the same points; weights computed as ax vs 1 - ax may round
        // differently in the last float bit, which can move a result by at most one level.
        let image = patternImage(width: 30, height: 12)
        let fused = Geometry.rotateZoomCrop(image, degrees: 10, zoom: 1.6, flipFirst: true)
        let twoStep = Geometry.rotateZoomCrop(Geometry.flipHorizontal(image), degrees: 10, zoom: 1.6)
        XCTAssertLessThanOrEqual(zip(fused.pixels, twoStep.pixels).map { abs(Int($0) - Int($1)) }.max()!, 1)
    }

    func testBilinearResizeUsesHalfPixelCentres() {
        // TF half-pixel: source x = (i + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped).
        let image = Image(width: 2, height: 1, pixels: [0, 0, 0, 100, 200, 40])
        let out = Geometry.resizeBilinearFloat(image, width: 4, height: 1)
        XCTAssertEqual(Array(out[0..<3]), [0, 0, 0])
        XCTAssertEqual(Array(out[3..<6]), [25, 50, 10])
        XCTAssertEqual(Array(out[6..<9]), [75, 150, 30])
        XCTAssertEqual(Array(out[9..<12]), [100, 200, 40])
    }

    func testAreaResizeAveragesBlocks() {
        var px = [UInt8](repeating: 0, count: 4 * 2 * 3)
        for (i, v) in [10, 20, 30, 50, 30, 40, 70, 90].enumerated() { px[3 * i] = UInt8(v) }
        let out = Geometry.resizeArea(Image(width: 4, height: 2, pixels: px), width: 2, height: 1)
        XCTAssertEqual(out.pixels[0], 25)  // (10 + 20 + 30 + 40) / 4
        XCTAssertEqual(out.pixels[3], 60)  // (30 + 50 + 70 + 90) / 4
    }

    func testCropToAspectRatioMatchesKeras() {
        // 600x300 to a 200x600 (h x w) target: height int(600 * 200 / 600) = 200, rows 50..<250.
        let image = patternImage(width: 600, height: 300)
        let out = Geometry.cropToAspectRatio(image, width: 600, height: 200)
        XCTAssertEqual(out.width, 600)
        XCTAssertEqual(out.height, 200)
        XCTAssertEqual(out[3, 0, 1], image[3, 50, 1])
        XCTAssertEqual(out[599, 199, 1], image[599, 249, 1])
    }
}
