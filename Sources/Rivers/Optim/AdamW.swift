// AdamW with Keras' semantics and the EMA of the weights: one loop over the parameter slab each.
import Foundation

/// Keras' AdamW: decoupled weight decay (w -= lr * wd * w) first, then the Adam update with
/// bias correction folded into the step size, alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t),
/// and epsilon added to sqrt(v): w -= alpha m / (sqrt(v) + epsilon).
public struct AdamW: Equatable, Codable, Sendable {
    public var learningRate: Float
    public var weightDecay: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    /// Updates applied so far (t of the bias correction).
    public var step: Int = 0

    public init(learningRate: Float, weightDecay: Float) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// One update of every parameter of `slab` from its gradients.
    public mutating func update(_ slab: ParameterSlab) {
        step += 1
        let t = Double(step)
        let alpha = Float(Double(learningRate) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
        let decay = 1 - learningRate * weightDecay
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        let w = slab.values.pointer, g = slab.grads.pointer, m = slab.adamM.pointer, v = slab.adamV.pointer
        Parallel.forChunks(slab.count, minimumChunk: 1 << 14) { r in
            for i in r {
                let gi = g[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] = w[i] * decay - alpha * m[i] / (v[i].squareRoot() + eps)
            }
        }
    }
}

/// ema = decay * ema + (1 - decay) * w after every step; inference uses the EMA weights.
public enum EMA {
    public static func update(_ slab: ParameterSlab, decay: Float) {
        let w = slab.values.pointer, e = slab.ema.pointer
        Parallel.forChunks(slab.count, minimumChunk: 1 << 14) { r in
            for i in r { e[i] = decay * e[i] + (1 - decay) * w[i] }
        }
    }
}
