// The U-Net's forward and backward passes over a planned workspace.
import Foundation

extension UNetWorkspace {
    func blockBuffers(
        _ p: StagePlan, _ block: ResidualBlock, x: UnsafePointer<Float>,
        c1: UnsafeMutablePointer<Float>, c2: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
    ) -> ResidualBlock.Buffers {
        ResidualBlock.Buffers(
            x: x, constants: block.constantChannels > 0 ? UnsafePointer(embedding.pointer) : nil,
            c1: c1, c2: c2, out: out, stats: side.pointer + p.stats,
            slice: side.pointer + p.stats + block.statsCount(batch: batch),
            wide: wide[1].pointer, narrow: narrow[0].pointer)
    }
}

extension UNet {
    /// Predicted noise of `images` [N, H, W, 3] at noise variances [N], into `ws.output`.
    /// Uses the weights `ctx.weights` points at (the trained values or the EMA copy). In
    /// training, image n's attention dropout draws from `rngs[n]` (unused otherwise: pass []); the
    /// forward pass keeps what `backward` needs.
    public func forward(
        _ ws: UNetWorkspace, _ ctx: LayerContext, images: UnsafePointer<Float>, variances: UnsafePointer<Float>,
        training: Bool, rngs: inout [SeededGenerator]
    ) {
        precondition(!training || rngs.count >= ws.batch, "a training forward pass needs one generator per image")
        let (N, H, W) = (ws.batch, ws.height, ws.width)
        let T = ws.halfTemps
        ws.input.pointer.update(from: images, count: N * H * W * 3)
        NoiseEmbedding.forward(ws.embedding.pointer, variances: variances, N: N, dims: config.embeddingDims)
        stem.forward(ws.target(ws.x0, T[0]), ws.input.pointer, stem.geometry(batch: N, height: H, width: W), ctx)
        ws.commit(ws.x0, T[0])
        for p in ws.plans {
            let x = ws.materialize(p.input, ws.wide[0])
            switch p.stage {
            case .block(let block, let attention, _, _, _):
                let out = ws.target(p.out, T[2])
                let b = ws.blockBuffers(
                    p, block, x: x, c1: ws.target(p.c1!, T[0]), c2: ws.target(p.c2!, T[1]), out: out)
                block.forward(b, batch: N, height: p.height, width: p.width, ctx)
                ws.commit(p.c1!, T[0]); ws.commit(p.c2!, T[1]); ws.commit(p.out, T[2])
                if let attention, let a = p.attentionOut {
                    attention.forward(
                        ws.full.pointer + a.offset, out, saved: ws.side.pointer + p.attentionSaved,
                        work: ws.attentionWork.pointer,
                        batch: N, length: p.height * p.width, training: training, rngs: &rngs, ctx)
                }
            case .down(let conv, _), .up(let conv, _):
                conv.forward(
                    ws.target(p.out, T[0]), x, conv.geometry(batch: N, height: p.inHeight, width: p.inWidth), ctx)
                ws.commit(p.out, T[0])
            }
        }
        head.forward(
            ws.output.pointer, ws.load(ws.plans.last!.output, ws.wide[0]), head.geometry(batch: N, height: H, width: W),
            ctx)
    }

    /// network(images, variances) -> predicted noise, as arrays: an inference forward pass with
    /// the weights `ctx` points at (the EMA copy, for generation) on a workspace of the same
    /// batch. Reuse one context and workspace across calls: their memory is then reused too.
    public func predictNoise(_ ws: UNetWorkspace, _ ctx: LayerContext, images: [Float], variances: [Float]) -> [Float] {
        precondition(
            images.count == ws.input.count && variances.count == ws.batch,
            "predictNoise: \(images.count) values and \(variances.count) variances for a workspace of \(ws.batch) x \(ws.height) x \(ws.width) x 3"
        )
        var none: [SeededGenerator] = []  // no dropout outside training
        forward(ws, ctx, images: images, variances: variances, training: false, rngs: &none)
        return Array(UnsafeBufferPointer(start: ws.output.pointer, count: ws.output.count))
    }

    /// Adds the gradients of a scalar loss into `ctx.grads`, given its gradient with respect to
    /// `ws.output` (`dOutput`), after `forward` in training mode on the same workspace. When
    /// `dImages` is given, the gradient with respect to the input images is added into it.
    public func backward(
        _ ws: UNetWorkspace, _ ctx: LayerContext, dOutput: UnsafePointer<Float>,
        dImages: UnsafeMutablePointer<Float>? = nil,
        training: Bool = true
    ) {
        precondition(ws.training, "backward needs a workspace planned for training")
        let (N, H, W) = (ws.batch, ws.height, ws.width)
        let T = ws.halfTemps
        let A = ws.narrow[2].pointer, B = ws.narrow[3].pointer
        ws.skipGrads.pointer.update(repeating: 0, count: ws.skipGrads.count)
        // Gradients of stage outputs alternate between A and B, except that a skip's gradient
        // lives in its own region from the up path (concat) to the down path.
        func spare(_ current: UnsafeMutablePointer<Float>, _ count: Int) -> UnsafeMutablePointer<Float> {
            let s = current == A ? B : A
            s.update(repeating: 0, count: count)
            return s
        }
        func gradient(of s: Slot, besides current: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            if let k = ws.skipSlots.firstIndex(of: s) { return ws.skipGrad(k) }
            return spare(current, s.count)
        }
        let last = ws.plans.last!.output
        var dCur = gradient(of: last, besides: B)
        head.backward(dCur, dOutput, ws.load(last, ws.wide[0]), head.geometry(batch: N, height: H, width: W), ctx)
        for p in ws.plans.reversed() {
            switch p.stage {
            case .block(let block, let attention, _, _, _):
                let P = N * p.height * p.width
                if let attention {
                    let target = gradient(of: p.out, besides: dCur)
                    attention.backward(
                        target, dCur, ws.load(p.out, T[2]), saved: ws.side.pointer + p.attentionSaved,
                        work: ws.attentionWork.pointer,
                        batch: N, length: p.height * p.width, training: training, ctx)
                    dCur = target
                }
                // dCur is now the gradient of the residual block's output.
                let x = ws.materialize(p.input, ws.wide[0])
                let c1 = ws.load(p.c1!, T[0]), c2 = ws.load(p.c2!, T[1])
                let dx: UnsafeMutablePointer<Float>
                switch p.input {
                case .concat:
                    dx = ws.wide[3].pointer
                    dx.update(repeating: 0, count: P * block.inChannels)
                case .slot(let s): dx = gradient(of: s, besides: dCur)
                case .swishOf(let s): dx = spare(dCur, s.count)
                }
                let b = ws.blockBuffers(p, block, x: x, c1: c1, c2: c2, out: c2)
                block.backward(
                    b, ResidualBlock.Gradients(dout: dCur, dx: dx, dc: ws.narrow[1].pointer, dWide: ws.wide[2].pointer),
                    batch: N, height: p.height, width: p.width, ctx)
                if case .concat(let first, let skip) = p.input {
                    let d = spare(dCur, P * first.channels)
                    Elementwise.splitChannels(d, first.channels, ws.skipGrad(p.skip!), skip.channels, dx, pixels: P)
                    dCur = d
                } else {
                    dCur = dx
                }
            case .down(let conv, _), .up(let conv, _):
                // dCur is the gradient of swish(out).
                let dc = ws.narrow[1].pointer
                dc.update(repeating: 0, count: p.out.count)
                Elementwise.swishBackward(dc, dCur, ws.load(p.out, T[0]), p.out.count)
                guard case .slot(let inSlot) = p.input else {
                    preconditionFailure("a sampling stage reads a saved output")
                }
                let target = gradient(of: inSlot, besides: dCur)
                conv.backward(
                    target, dc, ws.materialize(p.input, ws.wide[0]),
                    conv.geometry(batch: N, height: p.inHeight, width: p.inWidth), ctx)
                dCur = target
            }
        }
        // dCur is the gradient of the stem's output.
        stem.backward(dImages, dCur, ws.input.pointer, stem.geometry(batch: N, height: H, width: W), ctx)
    }
}
