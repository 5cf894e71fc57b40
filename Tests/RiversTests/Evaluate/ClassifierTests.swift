// The classifier of `rivers evaluate`: its gradient against finite differences, its batch order,
// determinism, and what it must do on data it can and cannot learn.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ClassifierTests: KernelPathTestCase {
    /// A tiny network: 12x20 input (odd sizes after the first stride-2 stage: 6x10 -> 3x5 -> 2x3),
    /// three stages, three classes.
    let tiny = ClassifierConfig(height: 12, width: 20, stemWidth: 8, widths: [8, 16, 8], classes: 3)

    /// The mean cross-entropy of `images` under the weights in `slab.values`, and its gradient.
    func lossAndGradient(_ net: Classifier, _ slab: ParameterSlab, _ images: [Float], _ labels: [Int], batch: Int)
        -> (Double, [Float])
    {
        let ws = ClassifierWorkspace(net, batch: batch)
        let ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
        let K = net.config.classes
        net.forward(ws, ctx, images: images)
        let loss = SoftmaxCrossEntropy.forward(ws.probabilities.pointer, ws.logits.pointer, labels, N: batch, K: K)
        var dlogits = [Float](repeating: 0, count: batch * K)
        SoftmaxCrossEntropy.backward(&dlogits, ws.probabilities.pointer, labels, N: batch, K: K)
        slab.zeroGradients()
        net.backward(ws, ctx, images: images, dlogits: dlogits)
        return (loss, Array(UnsafeBufferPointer(start: slab.grads.pointer, count: slab.count)))
    }

    /// Directional derivatives: for random directions v, (L(w + e v) - L(w - e v)) / 2e against
    /// the backward pass's g . v. Every layer (stem, stride-2 and stride-1 convolutions at odd
    /// sizes, GroupNorm with swish, pooling, dense) is on the path of every direction.
    func testGradientMatchesFiniteDifferences() throws {
        try onEveryPath {
            let net = try Classifier(tiny)
            let slab = ParameterSlab(layout: net.layout)
            var rng = SeededGenerator(seed: 3)
            slab.initialize(using: &rng)
            // Non-trivial GroupNorm scales and offsets, so that their gradients are tested at general values.
            for i in 0..<slab.count { slab.values.pointer[i] += 0.1 * rng.normal() }
            let batch = 3
            let images = randomArray(batch * tiny.height * tiny.width * 3, seed: 4).map { $0 * 2 }
            let labels = [0, 2, 1]
            let (_, gradient) = lossAndGradient(net, slab, images, labels, batch: batch)
            let w0 = Array(UnsafeBufferPointer(start: slab.values.pointer, count: slab.count))
            for direction in 0..<6 {
                var vrng = SeededGenerator(seed: 100 + UInt64(direction))
                let v = (0..<slab.count).map { _ in vrng.normal() }
                // e = 3e-4 along a unit-variance direction. The loss is smooth but strongly curved
                // here (GroupNorm groups of one channel over 6 pixels): from e = 1e-3 to 3e-4 the
                // difference quotient moved by up to 0.006, so the truncation error (e^2 / 6 L''')
                // left at 3e-4 is about 6e-4. The Float32 loss (about 1.1, rounded to ~1e-6 of itself
                // through the layers' sums) divided by 2e adds up to about 2e-3.
                let e: Float = 3e-4
                func loss(_ sign: Float) -> Double {
                    for i in 0..<slab.count { slab.values.pointer[i] = w0[i] + sign * e * v[i] }
                    return lossAndGradient(net, slab, images, labels, batch: batch).0
                }
                let numeric = (loss(1) - loss(-1)) / (2 * Double(e))
                let analytic = zip(gradient, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                // The two effects above: 3e-3, and 1% of the derivative for the curvature's share.
                XCTAssertEqual(numeric, analytic, accuracy: 3e-3 + 0.01 * abs(analytic), "direction \(direction)")
            }
        }
    }

    /// Each pass over the set visits every image once; passes are laid end to end across steps.
    func testBatchOrderVisitsEveryImageOncePerPass() {
        onEveryPath {
            let count = 10, batch = 4
            let steps = (0..<5).flatMap {
                ClassifierTrainer.batchIndices(count: count, batch: batch, step: $0, seed: 7)
            }
            XCTAssertEqual(steps.count, 20)
            XCTAssertEqual(Set(steps[0..<10]), Set(0..<10))
            XCTAssertEqual(Set(steps[10..<20]), Set(0..<10))
            XCTAssertNotEqual(Array(steps[0..<10]), Array(steps[10..<20]), "each pass has its own order")
            // A set smaller than a batch still fills it.
            XCTAssertEqual(Set(ClassifierTrainer.batchIndices(count: 3, batch: 8, step: 0, seed: 1)), Set(0..<3))
        }
    }

    /// Images of 3 classes told apart by their colour cast, with brightness and pixel noise.
    static func castImages(perClass: Int, height: Int, width: Int, seed: UInt64) -> LabelledImages {
        var rng = SeededGenerator(seed: seed)
        var pixels: [UInt8] = [], classes: [Int] = [], paths: [String] = []
        let casts: [SIMD3<Float>] = [[0.7, 0.4, 0.3], [0.4, 0.65, 0.35], [0.35, 0.45, 0.7]]
        for i in 0..<(3 * perClass) {
            let k = i % 3, light = 0.6 + 0.8 * rng.uniform()
            for _ in 0..<(height * width) {
                for c in 0..<3 {
                    let v = casts[k][c] * light * 255 + 40 * (rng.uniform() - 0.5)
                    pixels.append(UInt8(max(0, min(255, v))))
                }
            }
            classes.append(k); paths.append("img\(i).png")
        }
        return LabelledImages(
            images: TrainingImages(height: height, width: width, paths: paths, pixels: pixels), classes: classes)
    }

    func accuracy(_ trainer: ClassifierTrainer, _ test: LabelledImages) -> Double {
        let p = trainer.predict(test.images).probabilities, K = 3
        var right = 0
        for n in 0..<test.count {
            let row = (0..<K).map { p[n * K + $0] }
            if row.firstIndex(of: row.max()!)! == test.classes[n] { right += 1 }
        }
        return Double(right) / Double(test.count)
    }

    /// Trivially separable labels are learned (over 95% on held-out images); the same images with
    /// shuffled labels score at chance; the same seed gives the same weights.
    func testLearnsSeparableLabelsAndNotShuffledOnes() throws {
        try onEveryPath {
            let config = ClassifierConfig(height: 16, width: 48, classes: 3)
            let train = Self.castImages(perClass: 30, height: 16, width: 48, seed: 1)
            let test = Self.castImages(perClass: 40, height: 16, width: 48, seed: 2)
            let recipe = ClassifierRecipe(steps: 60, batchSize: 16)
            let normalizer = train.images.normalizer()
            let trainer = try ClassifierTrainer(config: config, recipe: recipe, normalizer: normalizer, seed: 5)
            XCTAssertTrue(try trainer.train(train))
            XCTAssertGreaterThan(accuracy(trainer, test), 0.95)

            let again = try ClassifierTrainer(config: config, recipe: recipe, normalizer: normalizer, seed: 5)
            _ = try again.train(train)
            XCTAssertTrue(
                memcmp(trainer.slab.values.pointer, again.slab.values.pointer, 4 * trainer.slab.count) == 0,
                "one seed, one result")

            let shuffled = try ClassifierTrainer(config: config, recipe: recipe, normalizer: normalizer, seed: 5)
            _ = try shuffled.train(train.shuffled(seed: 9))
            // EVALUATE.md's band for 40 test images per class: 1/3 +- (1/3) sqrt(3 / 40) = [0.24, 0.43].
            let band = (1.0 / 3) * (1 - (3.0 / 40).squareRoot())...(1.0 / 3) * (1 + (3.0 / 40).squareRoot())
            XCTAssertTrue(band.contains(accuracy(shuffled, test)), "shuffled: \(accuracy(shuffled, test))")
        }
    }
}
