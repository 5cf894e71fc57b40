// The U-Net's layer kinds as small values holding parameter views: convolution, GroupNorm and
// attention, each with a forward pass and a backward pass that adds into the gradients.
import Foundation

/// What layers run against: the weights in use (the trained values or the EMA copy), the
/// gradient buffer, and the kernels' reusable memory. One per network; not thread-safe.
public final class LayerContext: @unchecked Sendable {
    public var weights: UnsafeMutablePointer<Float>
    public var grads: UnsafeMutablePointer<Float>
    /// The Winograd tile of stride-1 3x3 forward convolutions: 2 (F(2x2, 3x3)) where a backward
    /// pass follows, 4 (F(4x4, 3x3), 1.8x fewer multiplies, up to 20x the rounding error of F(2x2) and
    /// still far within the direct sum's bound) for forward passes only.
    public var winogradTile: Int
    let gemm = GemmScratch()
    let norm = GroupNormScratch()
    let constant = ConstantChannelsScratch()

    /// Gradient memory for inference-only contexts (never written: backward needs real grads).
    private let noGradients: FloatBuffer?

    public init(weights: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>) {
        self.weights = weights
        self.grads = grads
        winogradTile = 2
        noGradients = nil
    }

    /// A context for forward passes only.
    public init(weights: UnsafeMutablePointer<Float>) {
        let none = FloatBuffer(count: 1)
        self.weights = weights
        grads = none.pointer
        winogradTile = 4
        noGradients = none
    }

    @inline(__always) func w(_ p: Param) -> UnsafeMutablePointer<Float> { weights + p.offset }
    @inline(__always) func g(_ p: Param) -> UnsafeMutablePointer<Float> { grads + p.offset }
}

/// A 2-D convolution with bias: k x k, stride 1 or 2, TensorFlow "same" padding; or, when
/// `transposed`, Keras' Conv2DTranspose(3, stride 2, "same") with weight [3, 3, out, in].
struct ConvLayer {
    let weight: Param, bias: Param
    let kernel: Int, stride: Int, inChannels: Int, outChannels: Int
    let transposed: Bool

    /// Declares the weight and bias. He-normal unless told otherwise (docs/model.md).
    init(
        _ layout: inout ParameterLayout, _ name: String, kernel: Int, stride: Int = 1, inChannels: Int,
        outChannels: Int,
        transposed: Bool = false, initializer: Initializer? = nil
    ) {
        self.kernel = kernel; self.stride = stride; self.inChannels = inChannels; self.outChannels = outChannels
        self.transposed = transposed
        let area = kernel * kernel
        // Keras computes fans from the kernel's last two axes: (in, out) for a convolution,
        // (out, in) for a transposed one.
        let fanIn = area * (transposed ? outChannels : inChannels)
        weight = layout.add(
            name + ".weight",
            transposed ? [kernel, kernel, outChannels, inChannels] : [kernel, kernel, inChannels, outChannels],
            initializer ?? .heNormal(fanIn: fanIn))
        bias = layout.add(name + ".bias", [outChannels], .zeros)
    }

    /// The convolution whose kernels run this layer on an input of batch x height x width
    /// (for a transposed layer, the stride-2 convolution it is the transpose of).
    func geometry(batch: Int, height: Int, width: Int) -> ConvGeometry {
        transposed
            ? ConvTranspose2D.geometry(
                batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels)
            : ConvGeometry(
                batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
                kernel: kernel, stride: stride)
    }

    /// Multiply-adds x 2 of one forward pass on this input size.
    func flops(batch: Int, height: Int, width: Int) -> Double {
        geometry(batch: batch, height: height, width: width).flops
    }

    /// out = conv(x) + bias.
    func forward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ g: ConvGeometry, _ ctx: LayerContext)
    {
        if transposed {
            ConvTranspose2D.forward(out, x, ctx.w(weight), ctx.w(bias), g, scratch: ctx.gemm)
        } else {
            Conv2D.forward(out, x, ctx.w(weight), ctx.w(bias), g, scratch: ctx.gemm, winogradTile: ctx.winogradTile)
        }
    }

    /// dweight, dbias += ...; dx += ... when given.
    func backward(
        _ dx: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ g: ConvGeometry,
        _ ctx: LayerContext
    ) {
        if transposed {
            ConvTranspose2D.backwardWeights(ctx.g(weight), ctx.g(bias), x, dout, g, scratch: ctx.gemm)
            if let dx { ConvTranspose2D.backwardInput(dx, dout, ctx.w(weight), g, scratch: ctx.gemm) }
        } else {
            Conv2D.backwardWeights(ctx.g(weight), ctx.g(bias), x, dout, g, scratch: ctx.gemm)
            if let dx { Conv2D.backwardInput(dx, dout, ctx.w(weight), g, scratch: ctx.gemm) }
        }
    }
}

/// GroupNorm(8 groups, epsilon 1e-3) with learned scale and offset per channel.
struct NormLayer {
    let gamma: Param, beta: Param
    let channels: Int

    init(_ layout: inout ParameterLayout, _ name: String, channels: Int) {
        self.channels = channels
        gamma = layout.add(name + ".gamma", [channels], .ones)
        beta = layout.add(name + ".beta", [channels], .zeros)
    }
}

/// Keras' MultiHeadAttention(heads, key_dim) over the pixels as a sequence, added to its
/// input. In training with a rate above 0 (the bottleneck's 0.2) it drops twice, as the original
/// does (docs/model.md, bottleneck): the attention probabilities, and the block's output after the
/// residual add.
struct AttentionLayer {
    let wq, bq, wk, bk, wv, bv, wo, bo: Param
    let channels: Int, heads: Int, keyDim: Int
    let dropout: Float

    init(_ layout: inout ParameterLayout, _ name: String, channels C: Int, heads h: Int, keyDim d: Int, dropout: Float)
    {
        channels = C; heads = h; keyDim = d; self.dropout = dropout
        // Keras' kernels are [C, h, d] and [h, d, C]; its fans for such shapes take the first
        // axis as the receptive field: (h C, d C) for q, k, v and (d h, C h) for the output.
        let qkv = Initializer.glorotUniform(fanIn: h * C, fanOut: d * C)
        wq = layout.add(name + ".query.weight", [C, h * d], qkv); bq = layout.add(name + ".query.bias", [h * d], .zeros)
        wk = layout.add(name + ".key.weight", [C, h * d], qkv); bk = layout.add(name + ".key.bias", [h * d], .zeros)
        wv = layout.add(name + ".value.weight", [C, h * d], qkv); bv = layout.add(name + ".value.bias", [h * d], .zeros)
        wo = layout.add(name + ".output.weight", [h * d, C], .glorotUniform(fanIn: d * h, fanOut: C * h))
        bo = layout.add(name + ".output.bias", [C], .zeros)
    }

    func weights(_ base: UnsafeMutablePointer<Float>) -> AttentionWeights {
        AttentionWeights(
            wq: base + wq.offset, bq: base + bq.offset, wk: base + wk.offset, bk: base + bk.offset,
            wv: base + wv.offset, bv: base + bv.offset, wo: base + wo.offset, bo: base + bo.offset)
    }

    /// Floats this layer keeps for the backward pass at sequence length L: q, k, v,
    /// probabilities, context, and the two dropout masks (probabilities, output).
    func savedCount(batch N: Int, length L: Int) -> Int {
        AttentionCache.sizes(batch: N, length: L, heads: heads, keyDim: keyDim).reduce(0, +)
            + (dropout > 0 ? N * heads * L * L + N * L * channels : 0)
    }

    /// Floats of work memory of the kernel's backward pass, then (with dropout) the output's
    /// gradient through the output mask.
    func workCount(batch N: Int, length L: Int) -> Int {
        kernelWorkCount(batch: N, length: L) + (dropout > 0 ? N * L * channels : 0)
    }
    func kernelWorkCount(batch N: Int, length L: Int) -> Int { 4 * N * L * heads * keyDim + 2 * L * L }

    func cache(_ base: UnsafeMutablePointer<Float>, batch N: Int, length L: Int) -> (
        AttentionCache, probMask: UnsafeMutablePointer<Float>?, outMask: UnsafeMutablePointer<Float>?
    ) {
        let s = AttentionCache.sizes(batch: N, length: L, heads: heads, keyDim: keyDim)
        var p = base
        var parts: [UnsafeMutablePointer<Float>] = []
        for n in s { parts.append(p); p += n }
        return (
            AttentionCache(q: parts[0], k: parts[1], v: parts[2], probs: parts[3], context: parts[4]),
            dropout > 0 ? p : nil, dropout > 0 ? p + N * heads * L * L : nil
        )
    }

    /// out = x + attention(x), then in training with dropout the output mask. Image n draws its
    /// masks (0 or 1 / (1 - rate)) from `rngs[n]`, the probabilities' first and then the
    /// output's, into the saved memory; `work` holds L*L floats.
    func forward(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, saved: UnsafeMutablePointer<Float>,
        work: UnsafeMutablePointer<Float>,
        batch N: Int, length L: Int, training: Bool, rngs: inout [SeededGenerator], _ ctx: LayerContext
    ) {
        let (cache, probMask, outMask) = self.cache(saved, batch: N, length: L)
        var mask: UnsafePointer<Float>? = nil
        let keep = 1 / (1 - dropout)
        if training, let probMask, let outMask {
            let perImage = heads * L * L, outPerImage = L * channels
            for n in 0..<N {
                for i in (n * perImage)..<((n + 1) * perImage) {
                    probMask[i] = rngs[n].uniform() < dropout ? 0 : keep
                }
                for i in (n * outPerImage)..<((n + 1) * outPerImage) {
                    outMask[i] = rngs[n].uniform() < dropout ? 0 : keep
                }
            }
            mask = UnsafePointer(probMask)
        }
        Attention.forward(
            out, cache, x, weights(ctx.weights), N: N, L: L, C: channels, heads: heads, keyDim: keyDim,
            dropoutMask: mask, work: work, scratch: ctx.gemm)
        if training, let outMask { for i in 0..<(N * L * channels) { out[i] *= outMask[i] } }
    }

    /// dx += ..., weight gradients += ... .
    func backward(
        _ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
        saved: UnsafeMutablePointer<Float>,
        work: UnsafeMutablePointer<Float>, batch N: Int, length L: Int, training: Bool, _ ctx: LayerContext
    ) {
        let (cache, probMask, outMask) = self.cache(saved, batch: N, length: L)
        var gradient = dout
        if training, let outMask {
            // Through the output mask: the gradient of x + attention(x).
            let masked = work + kernelWorkCount(batch: N, length: L)
            for i in 0..<(N * L * channels) { masked[i] = dout[i] * outMask[i] }
            gradient = UnsafePointer(masked)
        }
        Attention.backward(
            dx, weights(ctx.grads), gradient, x, weights(ctx.weights), cache, N: N, L: L, C: channels, heads: heads,
            keyDim: keyDim,
            dropoutMask: training ? probMask.map { UnsafePointer($0) } : nil, work: work, scratch: ctx.gemm)
    }
}
