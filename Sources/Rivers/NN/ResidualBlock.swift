// The residual block of docs/model.md, with the first block's noise-embedding channels taken as
// per-image constants: its shortcut, first GroupNorm and first 3x3 convolution never see a
// full-resolution copy of the embedding.
import Foundation

/// Residual(w)(x): if x has w channels, r = x; otherwise r = Conv1x1(w)(x) and
/// x = swish(GroupNorm(x)). Then x = GroupNorm(swish(Conv3x3(w)(x))) twice; out = x + r.
/// x has `inChannels` stored channels followed by `constantChannels` channels that are constant
/// over each image (only the first block has them: the embedding).
public struct ResidualBlock {
    public let inChannels: Int, constantChannels: Int, width: Int
    let shortcut: ConvLayer?, norm0: NormLayer?
    let conv1: ConvLayer, norm1: NormLayer, conv2: ConvLayer, norm2: NormLayer

    public init(_ layout: inout ParameterLayout, _ name: String, inChannels: Int, constantChannels: Int = 0, width: Int)
    {
        self.inChannels = inChannels; self.constantChannels = constantChannels; self.width = width
        let all = inChannels + constantChannels
        if all != width {
            shortcut = ConvLayer(&layout, name + ".shortcut", kernel: 1, inChannels: all, outChannels: width)
            norm0 = NormLayer(&layout, name + ".norm0", channels: all)
        } else {
            shortcut = nil; norm0 = nil
        }
        conv1 = ConvLayer(&layout, name + ".conv1", kernel: 3, inChannels: all, outChannels: width)
        norm1 = NormLayer(&layout, name + ".norm1", channels: width)
        conv2 = ConvLayer(&layout, name + ".conv2", kernel: 3, inChannels: width, outChannels: width)
        norm2 = NormLayer(&layout, name + ".norm2", channels: width)
    }

    /// Small per-step memory of a block, in floats: three GroupNorms' mean and rstd, and the
    /// constant channels' values after the first GroupNorm and swish and their gradient.
    public func statsCount(batch N: Int) -> Int { 6 * N * 8 + 2 * N * constantChannels }

    /// Floats of the contiguous copy of conv1's stored-channel weights (constant channels only).
    public var sliceCount: Int { constantChannels > 0 ? 9 * inChannels * width : 0 }

    func flops(batch N: Int, pixels P: Int) -> Double {
        // The constant channels' share is per image, not per pixel: not counted.
        var f = 2.0 * Double(N * P) * Double(9 * inChannels * width + 9 * width * width)
        if shortcut != nil { f += 2.0 * Double(N * P) * Double(inChannels * width) }
        return f
    }

    /// Everything a block's passes read and write besides its parameters.
    public struct Buffers {
        /// Stored channels of the input (x), and the embedding values [N, constantChannels].
        var x: UnsafePointer<Float>
        var constants: UnsafePointer<Float>?
        /// Saved for the backward pass: conv1 and conv2 outputs before their swish, the output.
        var c1: UnsafeMutablePointer<Float>, c2: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
        /// Statistics (statsCount floats) and the weight slice (sliceCount floats).
        var stats: UnsafeMutablePointer<Float>, slice: UnsafeMutablePointer<Float>
        /// Work: `wide` holds inChannels per pixel, `narrow` width per pixel.
        var wide: UnsafeMutablePointer<Float>, narrow: UnsafeMutablePointer<Float>

        public init(
            x: UnsafePointer<Float>, constants: UnsafePointer<Float>?, c1: UnsafeMutablePointer<Float>,
            c2: UnsafeMutablePointer<Float>,
            out: UnsafeMutablePointer<Float>, stats: UnsafeMutablePointer<Float>, slice: UnsafeMutablePointer<Float>,
            wide: UnsafeMutablePointer<Float>, narrow: UnsafeMutablePointer<Float>
        ) {
            self.x = x; self.constants = constants; self.c1 = c1; self.c2 = c2; self.out = out
            self.stats = stats; self.slice = slice; self.wide = wide; self.narrow = narrow
        }
    }

    struct Stats {
        let mean0, rstd0, mean1, rstd1, mean2, rstd2, h0Constants, dh0Constants: UnsafeMutablePointer<Float>
        init(_ p: UnsafeMutablePointer<Float>, N: Int, E: Int) {
            let s = N * 8
            mean0 = p; rstd0 = p + s; mean1 = p + 2 * s; rstd1 = p + 3 * s; mean2 = p + 4 * s; rstd2 = p + 5 * s
            h0Constants = p + 6 * s; dh0Constants = p + 6 * s + N * E
        }
    }

    func normShape(_ N: Int, _ HW: Int, input: Activation, output: Activation, channels: Int, constants: Int = 0)
        -> GroupNormShape
    {
        GroupNormShape(
            N: N, HW: HW, C: channels, constantChannels: constants, groups: 8, epsilon: 1e-3, input: input,
            output: output)
    }

    /// conv1's weight rows of the stored channels, [3, 3, inChannels, width], from the full
    /// [3, 3, inChannels + constantChannels, width] kernel.
    func gatherSlice(_ dst: UnsafeMutablePointer<Float>, _ full: UnsafePointer<Float>) {
        let all = inChannels + constantChannels
        for tap in 0..<9 {
            (dst + tap * inChannels * width).update(from: full + tap * all * width, count: inChannels * width)
        }
    }

    /// The first block's conv1 on the stored channels: the kernels need a contiguous weight.
    func conv1Weight(_ b: Buffers, _ ctx: LayerContext) -> UnsafePointer<Float> {
        guard constantChannels > 0 else { return UnsafePointer(ctx.w(conv1.weight)) }
        gatherSlice(b.slice, ctx.w(conv1.weight))
        return UnsafePointer(b.slice)
    }

    /// out = block(x). c1, c2 and out are written; `wide` and `narrow` are overwritten.
    public func forward(_ b: Buffers, batch N: Int, height H: Int, width W: Int, _ ctx: LayerContext) {
        let HW = H * W, Cin = inChannels, E = constantChannels
        let st = Stats(b.stats, N: N, E: E)
        let g1 = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin, outChannels: width, kernel: 3)
        let g2 = ConvGeometry(batch: N, height: H, width: W, inChannels: width, outChannels: width, kernel: 3)
        var h0 = b.x
        if let shortcut, let norm0 {
            // r = Conv1x1(x): the stored channels' rows come first in the kernel, then the constants'.
            let gs = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin, outChannels: width, kernel: 1)
            Conv2D.forward(b.out, b.x, ctx.w(shortcut.weight), ctx.w(shortcut.bias), gs, scratch: ctx.gemm)
            if let constants = b.constants {
                let gAll = ConvGeometry(
                    batch: N, height: H, width: W, inChannels: Cin + E, outChannels: width, kernel: 1)
                ConstantChannels.forward(
                    b.out, values: constants, offset: Cin, count: E, ctx.w(shortcut.weight), gAll, scratch: ctx.constant
                )
            }
            GroupNorm.forward(
                b.wide, constantOut: st.h0Constants, st.mean0, st.rstd0, b.x, constants: b.constants,
                ctx.w(norm0.gamma), ctx.w(norm0.beta),
                normShape(N, HW, input: .identity, output: .swish, channels: Cin, constants: E), scratch: ctx.norm)
            h0 = UnsafePointer(b.wide)
        }
        Conv2D.forward(
            b.c1, h0, conv1Weight(b, ctx), ctx.w(conv1.bias), g1, scratch: ctx.gemm, winogradTile: ctx.winogradTile)
        if E > 0 {
            let gAll = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin + E, outChannels: width, kernel: 3)
            ConstantChannels.forward(
                b.c1, values: st.h0Constants, offset: Cin, count: E, ctx.w(conv1.weight), gAll, scratch: ctx.constant)
        }
        let shape = normShape(N, HW, input: .swish, output: .identity, channels: width)
        GroupNorm.forward(
            b.narrow, st.mean1, st.rstd1, b.c1, ctx.w(norm1.gamma), ctx.w(norm1.beta), shape, scratch: ctx.norm)
        Conv2D.forward(
            b.c2, b.narrow, ctx.w(conv2.weight), ctx.w(conv2.bias), g2, scratch: ctx.gemm,
            winogradTile: ctx.winogradTile)
        GroupNorm.forward(
            b.narrow, st.mean2, st.rstd2, b.c2, ctx.w(norm2.gamma), ctx.w(norm2.beta), shape, scratch: ctx.norm)
        if shortcut != nil {
            Elementwise.add(b.out, b.out, b.narrow, N * HW * width)
        } else {
            Elementwise.add(b.out, b.x, b.narrow, N * HW * width)
        }
    }

    /// Work memory of the backward pass besides `Buffers`: two more gradients of `width`
    /// channels and one of `inChannels` channels per pixel.
    public struct Gradients {
        var dout: UnsafePointer<Float>
        /// += the gradient of the stored input channels.
        var dx: UnsafeMutablePointer<Float>
        var dc: UnsafeMutablePointer<Float>, dWide: UnsafeMutablePointer<Float>

        public init(
            dout: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dc: UnsafeMutablePointer<Float>,
            dWide: UnsafeMutablePointer<Float>
        ) {
            self.dout = dout; self.dx = dx; self.dc = dc; self.dWide = dWide
        }
    }

    /// Parameter gradients += ..., dx += ... . Recomputes what forward did not keep (the
    /// GroupNorm outputs) from c1, c2, x and the statistics.
    public func backward(_ b: Buffers, _ d: Gradients, batch N: Int, height H: Int, width W: Int, _ ctx: LayerContext) {
        let HW = H * W, Cin = inChannels, E = constantChannels, P = N * HW
        let st = Stats(b.stats, N: N, E: E)
        let g1 = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin, outChannels: width, kernel: 3)
        let g2 = ConvGeometry(batch: N, height: H, width: W, inChannels: width, outChannels: width, kernel: 3)
        let shape = normShape(N, HW, input: .swish, output: .identity, channels: width)
        // out = n2 + r: the GroupNorm of swish(c2) gets dout.
        d.dc.update(repeating: 0, count: P * width)
        GroupNorm.backward(
            d.dc, ctx.g(norm2.gamma), ctx.g(norm2.beta), d.dout, b.c2, st.mean2, st.rstd2,
            ctx.w(norm2.gamma), ctx.w(norm2.beta), shape, scratch: ctx.norm)
        // conv2 reads n1 = GroupNorm(swish(c1)), recomputed.
        GroupNorm.apply(
            b.narrow, b.c1, st.mean1, st.rstd1, ctx.w(norm1.gamma), ctx.w(norm1.beta), shape, scratch: ctx.norm)
        d.dWide.update(repeating: 0, count: P * width)
        conv2.backward(d.dWide, d.dc, b.narrow, g2, ctx)
        d.dc.update(repeating: 0, count: P * width)
        GroupNorm.backward(
            d.dc, ctx.g(norm1.gamma), ctx.g(norm1.beta), d.dWide, b.c1, st.mean1, st.rstd1,
            ctx.w(norm1.gamma), ctx.w(norm1.beta), shape, scratch: ctx.norm)
        // d.dc is now the gradient of c1.
        guard let shortcut, let norm0 else {
            conv1.backward(d.dx, d.dc, b.x, g1, ctx)
            Elementwise.add(d.dx, d.dx, d.dout, P * width)
            return
        }
        let shape0 = normShape(N, HW, input: .identity, output: .swish, channels: Cin, constants: E)
        GroupNorm.apply(
            b.wide, constantOut: st.h0Constants, b.x, constants: b.constants, st.mean0, st.rstd0,
            ctx.w(norm0.gamma), ctx.w(norm0.beta), shape0, scratch: ctx.norm)
        d.dWide.update(repeating: 0, count: P * Cin)
        if E > 0 {
            // Stored channels through the contiguous slice; the constant channels' rows directly.
            Conv2D.backwardInput(d.dWide, d.dc, conv1Weight(b, ctx), g1, scratch: ctx.gemm)
            // The slice's memory then takes the stored channels' weight gradient, added into the full one.
            b.slice.update(repeating: 0, count: sliceCount)
            Conv2D.backwardWeights(b.slice, ctx.g(conv1.bias), b.wide, d.dc, g1, scratch: ctx.gemm)
            let full = ctx.g(conv1.weight), all = Cin + E
            for tap in 0..<9 {
                let src = b.slice + tap * Cin * width, dst = full + tap * all * width
                for i in 0..<(Cin * width) { dst[i] += src[i] }
            }
            let gAll = ConvGeometry(batch: N, height: H, width: W, inChannels: all, outChannels: width, kernel: 3)
            st.dh0Constants.update(repeating: 0, count: N * E)
            ConstantChannels.backward(
                dvalues: st.dh0Constants, dweight: full, d.dc, values: st.h0Constants, offset: Cin, count: E,
                ctx.w(conv1.weight), gAll, scratch: ctx.constant)
        } else {
            conv1.backward(d.dWide, d.dc, b.wide, g1, ctx)
        }
        GroupNorm.backward(
            d.dx, ctx.g(norm0.gamma), ctx.g(norm0.beta), d.dWide, dconstantOut: E > 0 ? st.dh0Constants : nil,
            b.x, constants: b.constants, st.mean0, st.rstd0, ctx.w(norm0.gamma), ctx.w(norm0.beta), shape0,
            scratch: ctx.norm)
        // The shortcut's stored-channel rows are the kernel's first rows: contiguous.
        let gs = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin, outChannels: width, kernel: 1)
        Conv2D.backwardWeights(ctx.g(shortcut.weight), ctx.g(shortcut.bias), b.x, d.dout, gs, scratch: ctx.gemm)
        Conv2D.backwardInput(d.dx, d.dout, ctx.w(shortcut.weight), gs, scratch: ctx.gemm)
        if let constants = b.constants {
            let gAll = ConvGeometry(batch: N, height: H, width: W, inChannels: Cin + E, outChannels: width, kernel: 1)
            ConstantChannels.backward(
                dvalues: nil, dweight: ctx.g(shortcut.weight), d.dout, values: constants, offset: Cin, count: E,
                ctx.w(shortcut.weight), gAll, scratch: ctx.constant)
        }
    }
}
