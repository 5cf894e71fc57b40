// The training step of MODEL.md: normalise, noise at random diffusion times, predict the
// noise, MAE loss, backward, AdamW, EMA. Everything random comes from one seeded generator.
import Foundation

/// The losses of one step (or their means over an epoch): n_loss = MAE(noise, predicted
/// noise), the training loss; i_loss = MAE(images, predicted images).
public struct StepMetrics: Equatable, Sendable {
    public var nLoss: Float
    public var iLoss: Float
    public init(nLoss: Float, iLoss: Float) { self.nLoss = nLoss; self.iLoss = iLoss }
}

/// What a training run holds besides the network's structure: weights and optimizer state,
/// the normaliser, the generator, and the memory of one batch size and image size.
public final class DiffusionTrainer: @unchecked Sendable {
    public let net: UNet
    public let slab: ParameterSlab
    public let workspace: UNetWorkspace
    public var normalizer: Normalizer
    public var optimizer: AdamW
    public var schedule: CosineSchedule
    public var emaDecay: Float
    /// Noise, diffusion times and dropout masks are drawn from this, in a fixed order.
    public var rng: SeededGenerator
    let ctx: LayerContext
    /// Per step: normalised images, noises, noisy images, the loss gradient; per image: rates.
    let images, noises, noisy, dPrediction: FloatBuffer
    var noiseRates: [Float], signalRates: [Float], variances: [Float]

    /// A new run: weights initialised from `seed` (its own stream, so the step's draws do not
    /// depend on the network's size).
    public init(config: UNetConfig, batch: Int, height: Int, width: Int, mixedPrecision: Bool = false,
                learningRate: Float = 1e-5, weightDecay: Float? = nil, emaDecay: Float = 0.999,
                schedule: CosineSchedule = CosineSchedule(), normalizer: Normalizer = Normalizer(), seed: UInt64 = 42) throws {
        guard learningRate.isFinite, learningRate > 0 else { throw RiversError.invalidArgument("--learning_rate must be a positive number (got \(learningRate))") }
        guard batch > 0 else { throw RiversError.invalidArgument("--batch_size must be positive (got \(batch))") }
        net = try UNet(config)
        slab = ParameterSlab(layout: net.layout)
        var initRNG = SeededGenerator(seed: seed, stream: ["initial weights"])
        slab.initialize(using: &initRNG)
        workspace = try UNetWorkspace(net, batch: batch, height: height, width: width, mixedPrecision: mixedPrecision)
        self.normalizer = normalizer
        optimizer = AdamW(learningRate: learningRate, weightDecay: weightDecay ?? learningRate / 10)
        self.schedule = schedule
        self.emaDecay = emaDecay
        rng = SeededGenerator(seed: seed, stream: ["training steps"])
        ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
        let count = batch * height * width * 3
        images = FloatBuffer(count: count); noises = FloatBuffer(count: count)
        noisy = FloatBuffer(count: count); dPrediction = FloatBuffer(count: count)
        noiseRates = [Float](repeating: 0, count: batch); signalRates = noiseRates; variances = noiseRates
    }

    public var batch: Int { workspace.batch }

    /// Draws noise and diffusion times from `rng` and forms the noisy images from `batch` ([N, H,
    /// W, 3] in [0, 1]); runs the network with the given weights; returns the metrics over the
    /// first `valid` images (the rest pad a short batch and do not count: images do not interact).
    func predict(_ batchImages: UnsafePointer<Float>, weights: UnsafeMutablePointer<Float>, training: Bool,
                 rng: inout SeededGenerator, valid: Int) -> StepMetrics {
        let N = workspace.batch, count = images.count, perImage = count / N
        images.pointer.update(from: batchImages, count: count)
        normalizer.normalise(images.pointer, pixels: count / 3)
        for i in 0..<count { noises.pointer[i] = rng.normal() }
        for n in 0..<N {
            let (noise, signal) = schedule.rates(Double(rng.uniform()))
            noiseRates[n] = Float(noise); signalRates[n] = Float(signal); variances[n] = Float(noise * noise)
        }
        for n in 0..<N {
            let (nr, sr) = (noiseRates[n], signalRates[n])
            for i in (n * perImage)..<((n + 1) * perImage) { noisy.pointer[i] = sr * images.pointer[i] + nr * noises.pointer[i] }
        }
        ctx.weights = weights
        net.forward(workspace, ctx, images: noisy.pointer, variances: variances, training: training, rng: &rng)
        let predicted = workspace.output.pointer
        let counted = valid * perImage
        let nLoss = Elementwise.meanAbsoluteError(predicted, noises.pointer, counted)
        // pred_images = (noisy - n pred_noise) / s
        var iSum = 0.0
        for n in 0..<valid {
            let (nr, sr) = (noiseRates[n], signalRates[n])
            for i in (n * perImage)..<((n + 1) * perImage) {
                iSum += Double(abs((noisy.pointer[i] - nr * predicted[i]) / sr - images.pointer[i]))
            }
        }
        return StepMetrics(nLoss: nLoss, iLoss: Float(iSum / Double(counted)))
    }

    /// One training step on `batch` ([N, H, W, 3] floats in [0, 1]): loss, gradients, AdamW, EMA.
    @discardableResult
    public func step(_ batch: UnsafePointer<Float>) -> StepMetrics {
        let metrics = predict(batch, weights: slab.values.pointer, training: true, rng: &rng, valid: workspace.batch)
        slab.zeroGradients()
        dPrediction.pointer.update(repeating: 0, count: dPrediction.count)
        Elementwise.meanAbsoluteErrorBackward(dPrediction.pointer, workspace.output.pointer, noises.pointer, dPrediction.count)
        net.backward(workspace, ctx, dOutput: dPrediction.pointer, training: true)
        optimizer.update(slab)
        EMA.update(slab, decay: emaDecay)
        return metrics
    }

    /// The losses of the EMA network on the first `valid` images of `batch` (the rest pad a short
    /// batch), without any update (validation). Noise and times come from `rng`, not the
    /// trainer's generator, so validating does not change the training draws.
    public func evaluate(_ batch: UnsafePointer<Float>, valid: Int? = nil, rng: inout SeededGenerator) -> StepMetrics {
        predict(batch, weights: slab.ema.pointer, training: false, rng: &rng, valid: min(max(valid ?? workspace.batch, 1), workspace.batch))
    }

    /// Forward + backward FLOPs of one step (2 per multiply-add; the backward pass is two
    /// forward passes' worth: input and weight gradients).
    public var flopsPerStep: Double { 3 * net.forwardFlops(batch: workspace.batch, height: workspace.height, width: workspace.width) }
}
