// Training and running the classifier of `rivers evaluate`: batches drawn in a seeded shuffled
// order, horizontal flips, softmax cross-entropy, AdamW; predictions and pooled features on
// held-out images.
import Foundation

/// How a classifier is trained: the same for every arm (EVALUATE.md section 5).
public struct ClassifierRecipe: Equatable, Codable, Sendable {
    /// Optimizer steps: the same for every arm, so a larger set does not simply train longer.
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    /// Flip each training image left-right with probability 1/2.
    public var flips: Bool

    public init(
        steps: Int = 1500, batchSize: Int = 32, learningRate: Float = 1e-3, weightDecay: Float = 1e-4,
        flips: Bool = true
    ) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate
        self.weightDecay = weightDecay; self.flips = flips
    }
}

/// Images with a class each (0-based), held as the classifier's input size in bytes.
public struct LabelledImages: Sendable {
    public let images: TrainingImages
    /// The class of each image, in the order of `images.paths`.
    public let classes: [Int]

    public init(images: TrainingImages, classes: [Int]) {
        precondition(images.count == classes.count, "one class per image")
        self.images = images
        self.classes = classes
    }

    public var count: Int { classes.count }

    /// Images per class, for `classes` classes.
    public func counts(classes C: Int) -> [Int] {
        var c = [Int](repeating: 0, count: C)
        for k in classes where k >= 0 && k < C { c[k] += 1 }
        return c
    }

    /// The same images with the classes permuted by `seed`: the label-shuffled control.
    public func shuffled(seed: UInt64) -> LabelledImages {
        var rng = SeededGenerator(seed: seed, stream: ["shuffled labels"])
        return LabelledImages(images: images, classes: classes.shuffled(using: &rng))
    }
}

/// One classifier being trained: network, parameters, optimizer and the memory of one batch size.
public final class ClassifierTrainer: @unchecked Sendable {
    public let net: Classifier
    public let slab: ParameterSlab
    public let recipe: ClassifierRecipe
    public let normalizer: Normalizer
    public let seed: UInt64
    public private(set) var optimizer: AdamW
    let workspace: ClassifierWorkspace
    let ctx: LayerContext
    let batchImages: FloatBuffer
    var labels: [Int]

    /// A new classifier whose weights come from `seed`; `normalizer` is the real training
    /// photos' channel statistics (the same for every arm).
    public init(config: ClassifierConfig, recipe: ClassifierRecipe, normalizer: Normalizer, seed: UInt64) throws {
        net = try Classifier(config)
        slab = ParameterSlab(layout: net.layout)
        var rng = SeededGenerator(seed: seed, stream: ["classifier weights"])
        slab.initialize(using: &rng)
        self.recipe = recipe
        self.normalizer = normalizer
        self.seed = seed
        optimizer = AdamW(learningRate: recipe.learningRate, weightDecay: recipe.weightDecay)
        workspace = ClassifierWorkspace(net, batch: recipe.batchSize)
        ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
        batchImages = FloatBuffer(count: recipe.batchSize * config.height * config.width * 3)
        labels = [Int](repeating: 0, count: recipe.batchSize)
    }

    /// Fills the batch with `indices` of `data` (the rest of a short batch repeats the first
    /// image), flipped where `flips[b]`, as floats normalized by the training statistics.
    func fill(_ data: LabelledImages, _ indices: ArraySlice<Int>, flips: [Bool]) {
        let (H, W) = (net.config.height, net.config.width)
        precondition(data.images.height == H && data.images.width == W, "images at the classifier's size")
        let perImage = H * W * 3, out = batchImages.pointer
        data.images.pixels.withUnsafeBufferPointer { bytes in
            for b in 0..<recipe.batchSize {
                let i = indices[indices.startIndex + min(b, indices.count - 1)]
                let src = bytes.baseAddress! + i * perImage, dst = out + b * perImage
                let flip = b < flips.count && flips[b]
                for y in 0..<H {
                    for x in 0..<W {
                        let sx = flip ? W - 1 - x : x
                        for c in 0..<3 { dst[(y * W + x) * 3 + c] = Float(src[(y * W + sx) * 3 + c]) * (1 / 255) }
                    }
                }
                labels[b] = data.classes[i]
            }
        }
        normalizer.normalize(out, pixels: recipe.batchSize * H * W)
    }

    /// The batches of training step `step`: the images in an order shuffled per pass over the
    /// set by (seed, pass), passes laid end to end, so every image is seen equally often.
    public static func batchIndices(count: Int, batch: Int, step: Int, seed: UInt64) -> [Int] {
        var out: [Int] = []
        var position = step * batch
        var pass = position / count, order: [Int] = []
        while out.count < batch {
            if order.isEmpty {
                var rng = SeededGenerator(seed: seed, stream: ["classifier order", String(pass)])
                order = Array(0..<count).shuffled(using: &rng)
            }
            out.append(order[position % count])
            position += 1
            if position % count == 0 { pass += 1; order = [] }
        }
        return out
    }

    /// One optimizer step on the batch of step `optimizer.step`; returns the mean loss.
    @discardableResult
    public func step(_ data: LabelledImages) -> Double {
        let B = recipe.batchSize, K = net.config.classes
        let indices = Self.batchIndices(count: data.count, batch: B, step: optimizer.step, seed: seed)
        var rng = SeededGenerator(seed: seed, stream: ["classifier flips", String(optimizer.step)])
        let flips = (0..<B).map { _ in recipe.flips && rng.uniform() < 0.5 }
        fill(data, indices[...], flips: flips)
        ctx.weights = slab.values.pointer
        net.forward(workspace, ctx, images: batchImages.pointer)
        let loss = labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.forward(
                workspace.probabilities.pointer, workspace.logits.pointer, $0.baseAddress!, N: B, K: K)
        }
        slab.zeroGradients()
        workspace.dLogits.pointer.update(repeating: 0, count: B * K)
        labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.backward(
                workspace.dLogits.pointer, workspace.probabilities.pointer, $0.baseAddress!, N: B, K: K)
        }
        net.backward(workspace, ctx, images: batchImages.pointer, dlogits: workspace.dLogits.pointer)
        optimizer.update(slab)
        return loss
    }

    /// Trains for the recipe's steps, calling `progress(step, loss)` after each; stops early
    /// (returning false) when `shouldStop` says so.
    public func train(
        _ data: LabelledImages, shouldStop: () -> Bool = { false }, progress: (Int, Double) -> Void = { _, _ in }
    ) throws -> Bool {
        guard data.count > 0 else { throw RiversError.usage("a classifier needs training images") }
        while optimizer.step < recipe.steps {
            if shouldStop() { return false }
            let loss = step(data)
            guard loss.isFinite else {
                throw RiversError.diverged(
                    "the classifier's loss became \(loss) at step \(optimizer.step) (learning rate \(recipe.learningRate))"
                )
            }
            progress(optimizer.step, loss)
        }
        return true
    }

    /// Class probabilities [count, classes] and pooled features [count, features] of every image
    /// of `images` (no flips), with the current weights.
    public func predict(_ images: TrainingImages) -> (probabilities: [Float], features: [Float]) {
        let B = recipe.batchSize, K = net.config.classes, F = net.featureCount
        var probabilities = [Float](repeating: 0, count: images.count * K)
        var features = [Float](repeating: 0, count: images.count * F)
        let data = LabelledImages(images: images, classes: [Int](repeating: 0, count: images.count))
        ctx.weights = slab.values.pointer
        var start = 0
        while start < images.count {
            let end = min(start + B, images.count)
            fill(data, Array(start..<end)[...], flips: [])
            net.forward(workspace, ctx, images: batchImages.pointer)
            let logits = workspace.logits.pointer, p = workspace.probabilities.pointer
            for n in 0..<(end - start) {
                _ = SoftmaxCrossEntropy.softmaxRow(
                    p + n * K, logits + n * K, K, max: (0..<K).map { logits[n * K + $0] }.max()!)
                for k in 0..<K { probabilities[(start + n) * K + k] = p[n * K + k] }
                for f in 0..<F { features[(start + n) * F + f] = workspace.features.pointer[n * F + f] }
            }
            start = end
        }
        return (probabilities, features)
    }

    /// FLOPs of one training step (forward plus a backward of two forwards' worth).
    public var flopsPerStep: Double { 3 * net.forwardFlops(batch: recipe.batchSize) }
}
