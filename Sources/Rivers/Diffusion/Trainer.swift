// The training step of docs/model.md: normalize, noise at random diffusion times, predict the
// noise, MAE loss, backward, AdamW, EMA. Everything random about an image comes from a generator
// keyed by (seed, step, its place in the global batch), so a batch split over processes draws
// exactly what one process would.
import Foundation

/// The losses of one step (or their means over an epoch): n_loss = MAE(noise, predicted
/// noise), the training loss; i_loss = MAE(images, predicted images).
public struct StepMetrics: Equatable, Sendable {
    public var nLoss: Float
    public var iLoss: Float
    public init(nLoss: Float, iLoss: Float) { self.nLoss = nLoss; self.iLoss = iLoss }
}

/// What a training run holds besides the network's structure: weights and optimizer state,
/// the normalizer, the generator, and the memory of one batch size and image size.
public final class DiffusionTrainer: @unchecked Sendable {
    public let net: UNet
    public let slab: ParameterSlab
    public let workspace: UNetWorkspace
    public var normalizer: Normalizer
    public var optimizer: AdamW
    public var schedule: CosineSchedule
    public var emaDecay: Float
    /// The seed of every draw: image g of step s takes its noise, diffusion time and dropout masks
    /// from `imageGenerator(seed:step:index:)`. Saved in checkpoints with the step.
    public var seed: UInt64
    let ctx: LayerContext
    /// Per step: normalized images, noises, noisy images, the loss gradient; per image: rates.
    let images, noises, noisy, dPrediction: FloatBuffer
    var noiseRates: [Float], signalRates: [Float], variances: [Float]

    /// A new run: weights initialized from `seed` (its own stream, so the step's draws do not
    /// depend on the network's size).
    public init(
        config: UNetConfig, batch: Int, height: Int, width: Int, mixedPrecision: Bool = false,
        learningRate: Float = 1e-5, weightDecay: Float? = nil, emaDecay: Float = 0.999,
        schedule: CosineSchedule = CosineSchedule(), normalizer: Normalizer = Normalizer(), seed: UInt64 = 42
    ) throws {
        guard learningRate.isFinite, learningRate > 0 else {
            throw RiversError.setting(
                section: "train", key: "learning_rate", reason: "must be a positive number (got \(learningRate))",
                file: nil)
        }
        guard batch > 0 else {
            throw RiversError.setting(
                section: "train", key: "batch_size", reason: "must be positive (got \(batch))", file: nil)
        }
        net = try UNet(config)
        slab = ParameterSlab(layout: net.layout)
        var initRNG = SeededGenerator(seed: seed, stream: ["initial weights"])
        slab.initialize(using: &initRNG)
        workspace = try UNetWorkspace(net, batch: batch, height: height, width: width, mixedPrecision: mixedPrecision)
        self.normalizer = normalizer
        optimizer = AdamW(learningRate: learningRate, weightDecay: weightDecay ?? learningRate / 10)
        self.schedule = schedule
        self.emaDecay = emaDecay
        self.seed = seed
        ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
        let count = batch * height * width * 3
        images = FloatBuffer(count: count); noises = FloatBuffer(count: count)
        noisy = FloatBuffer(count: count); dPrediction = FloatBuffer(count: count)
        noiseRates = [Float](repeating: 0, count: batch); signalRates = noiseRates; variances = noiseRates
    }

    public var batch: Int { workspace.batch }

    /// Steps taken so far (AdamW's counter, saved in checkpoints): the next step's draws use it.
    public var stepsTaken: Int { optimizer.step }

    /// The generator of image `index` of the global batch of optimizer step `step`.
    public static func imageGenerator(seed: UInt64, step: Int, index: Int) -> SeededGenerator {
        SeededGenerator(seed: seed, stream: ["training step", String(step), String(index)])
    }

    /// Per image n (drawing from `rngs[n]`): noise, then a diffusion time; forms the noisy images
    /// from `batch` ([N, H, W, 3] in [0, 1]) and runs the network with the given weights (dropout
    /// masks from the same generators). Returns the sums of |error| over the first `valid` images
    /// (the rest pad a short batch and do not count: images do not interact).
    func predict(
        _ batchImages: UnsafePointer<Float>, weights: UnsafeMutablePointer<Float>, training: Bool,
        rngs: inout [SeededGenerator], valid: Int
    ) -> (nSum: Double, iSum: Double) {
        let N = workspace.batch, count = images.count, perImage = count / N
        images.pointer.update(from: batchImages, count: count)
        normalizer.normalize(images.pointer, pixels: count / 3)
        for n in 0..<N {
            for i in (n * perImage)..<((n + 1) * perImage) { noises.pointer[i] = rngs[n].normal() }
            let (noise, signal) = schedule.rates(Double(rngs[n].uniform()))
            noiseRates[n] = Float(noise); signalRates[n] = Float(signal); variances[n] = Float(noise * noise)
            let (nr, sr) = (noiseRates[n], signalRates[n])
            for i in (n * perImage)..<((n + 1) * perImage) {
                noisy.pointer[i] = sr * images.pointer[i] + nr * noises.pointer[i]
            }
        }
        ctx.weights = weights
        net.forward(workspace, ctx, images: noisy.pointer, variances: variances, training: training, rngs: &rngs)
        let predicted = workspace.output.pointer
        var nSum = 0.0, iSum = 0.0
        for n in 0..<valid {
            let (nr, sr) = (noiseRates[n], signalRates[n])
            for i in (n * perImage)..<((n + 1) * perImage) {
                nSum += Double(abs(predicted[i] - noises.pointer[i]))
                // pred_images = (noisy - n pred_noise) / s
                iSum += Double(abs((noisy.pointer[i] - nr * predicted[i]) / sr - images.pointer[i]))
            }
        }
        return (nSum, iSum)
    }

    /// The first half of a step on this process's share of a global batch: `batch` holds images
    /// `first ..< first + self.batch` of a global batch of `globalBatch` images. Leaves in the
    /// gradient slab this share's part of the gradient of the global mean loss, so the sum of
    /// every share's slab is the global batch's gradient; returns the share's sums of |error|.
    public func computeGradients(_ batch: UnsafePointer<Float>, first: Int, of globalBatch: Int) -> (
        nSum: Double, iSum: Double
    ) {
        var rngs = (0..<workspace.batch).map {
            Self.imageGenerator(seed: seed, step: optimizer.step, index: first + $0)
        }
        let sums = predict(batch, weights: slab.values.pointer, training: true, rngs: &rngs, valid: workspace.batch)
        slab.zeroGradients()
        // d(mean over the global batch)/d(prediction): sign / (global element count).
        let scale = 1 / Float(globalBatch * (dPrediction.count / workspace.batch))
        let predicted = workspace.output.pointer
        for i in 0..<dPrediction.count {
            let d = predicted[i] - noises.pointer[i]
            dPrediction.pointer[i] = d > 0 ? scale : (d < 0 ? -scale : 0)
        }
        net.backward(workspace, ctx, dOutput: dPrediction.pointer, training: true)
        return sums
    }

    /// The second half of a step, once the gradient slab holds the global batch's gradient:
    /// AdamW, then the EMA.
    public func applyGradients() {
        optimizer.update(slab)
        EMA.update(slab, decay: emaDecay)
    }

    /// One training step on `batch` ([N, H, W, 3] floats in [0, 1]), the whole global batch:
    /// loss, gradients, AdamW, EMA.
    @discardableResult
    public func step(_ batch: UnsafePointer<Float>) -> StepMetrics {
        let sums = computeGradients(batch, first: 0, of: workspace.batch)
        applyGradients()
        return metrics(sums, images: workspace.batch)
    }

    /// Mean losses from sums of |error| over `images` images.
    public func metrics(_ sums: (nSum: Double, iSum: Double), images: Int) -> StepMetrics {
        let elements = Double(max(images, 1) * (dPrediction.count / workspace.batch))
        return StepMetrics(nLoss: Float(sums.nSum / elements), iLoss: Float(sums.iSum / elements))
    }

    /// The losses of the EMA network on the first `valid` images of `batch` (the rest pad a short
    /// batch), without any update (validation). Image n draws from `rngs[n]`, not from the
    /// training keys, so validating does not change the training draws.
    public func evaluate(_ batch: UnsafePointer<Float>, valid: Int? = nil, rngs: [SeededGenerator]) -> StepMetrics {
        precondition(rngs.count == workspace.batch, "evaluate: one generator per image of the batch")
        var rngs = rngs
        let v = min(max(valid ?? workspace.batch, 1), workspace.batch)
        return metrics(predict(batch, weights: slab.ema.pointer, training: false, rngs: &rngs, valid: v), images: v)
    }

    /// Forward + backward FLOPs of one step (2 per multiply-add; the backward pass is two
    /// forward passes' worth: input and weight gradients).
    public var flopsPerStep: Double {
        3 * net.forwardFlops(batch: workspace.batch, height: workspace.height, width: workspace.width)
    }
}
