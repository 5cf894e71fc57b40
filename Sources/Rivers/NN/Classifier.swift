// The small CNN of EVALUATE.md section 5, on the engine's kernels: a stem 3x3 convolution, four
// stages of (3x3 stride-2 convolution, GroupNorm, swish, 3x3 convolution, GroupNorm, swish),
// global average pooling, a dense layer and softmax cross-entropy.
import Foundation

/// The classifier's input size, widths and class count.
public struct ClassifierConfig: Equatable, Codable, Sendable {
    public var height: Int
    public var width: Int
    /// Output channels of the stem convolution.
    public var stemWidth: Int
    /// Channels of each stage; each stage halves the height and width.
    public var widths: [Int]
    public var classes: Int

    public init(
        height: Int = 64, width: Int = 192, stemWidth: Int = 16, widths: [Int] = [16, 32, 64, 128], classes: Int = 6
    ) {
        self.height = height; self.width = width; self.stemWidth = stemWidth; self.widths = widths
        self.classes = classes
    }

    /// Throws when the network cannot be built: GroupNorm(8) needs widths that divide by 8.
    public func validate() throws {
        func bad(_ reason: String) -> RiversError {
            .setting(section: "evaluate", key: "classifier", reason: reason, file: nil)
        }
        guard height > 0, width > 0, stemWidth > 0, classes >= 2, !widths.isEmpty else {
            throw bad("needs a positive image size, a stem, at least one stage and two classes")
        }
        guard widths.allSatisfy({ $0 > 0 && $0 % 8 == 0 }) else {
            throw bad("stage widths must be positive multiples of 8 (GroupNorm's 8 groups), got \(widths)")
        }
    }

    /// Height and width after stage `i` (0-based): each stride-2 "same" convolution rounds up.
    func size(afterStage i: Int) -> (Int, Int) {
        var (h, w) = (height, width)
        for _ in 0...i { h = (h + 1) / 2; w = (w + 1) / 2 }
        return (h, w)
    }
}

/// The classifier's layers as views into one parameter layout.
public struct Classifier: Sendable {
    public let config: ClassifierConfig
    public let layout: ParameterLayout
    let stem: ConvLayer
    struct Stage {
        let down: ConvLayer, norm1: NormLayer, conv: ConvLayer, norm2: NormLayer
    }
    let stages: [Stage]
    let denseWeight: Param, denseBias: Param

    public init(_ config: ClassifierConfig) throws {
        try config.validate()
        self.config = config
        var layout = ParameterLayout()
        stem = ConvLayer(&layout, "stem", kernel: 3, inChannels: 3, outChannels: config.stemWidth)
        var stages: [Stage] = []
        var channels = config.stemWidth
        for (i, w) in config.widths.enumerated() {
            let name = "stage\(i + 1)"
            stages.append(
                Stage(
                    down: ConvLayer(
                        &layout, name + ".down", kernel: 3, stride: 2, inChannels: channels, outChannels: w),
                    norm1: NormLayer(&layout, name + ".norm1", channels: w),
                    conv: ConvLayer(&layout, name + ".conv", kernel: 3, inChannels: w, outChannels: w),
                    norm2: NormLayer(&layout, name + ".norm2", channels: w)))
            channels = w
        }
        self.stages = stages
        denseWeight = layout.add(
            "dense.weight", [channels, config.classes],
            .glorotUniform(fanIn: channels, fanOut: config.classes))
        denseBias = layout.add("dense.bias", [config.classes], .zeros)
        self.layout = layout
    }

    /// Width of the pooled features (the penultimate layer).
    public var featureCount: Int { config.widths.last! }

    /// Multiply-adds x 2 of one forward pass of `batch` images.
    public func forwardFlops(batch N: Int) -> Double {
        var f = stem.flops(batch: N, height: config.height, width: config.width)
        var (h, w) = (config.height, config.width)
        for s in stages {
            f += s.down.flops(batch: N, height: h, width: w)
            h = (h + 1) / 2; w = (w + 1) / 2
            f += s.conv.flops(batch: N, height: h, width: w)
        }
        return f + 2 * Double(N * featureCount * config.classes)
    }

    func normShape(_ N: Int, _ HW: Int, _ C: Int) -> GroupNormShape {
        GroupNormShape(N: N, HW: HW, C: C, groups: 8, epsilon: 1e-3, input: .identity, output: .swish)
    }

    /// logits = network(images): `images` [N, H, W, 3], normalized. Keeps in `ws` what the
    /// backward pass needs; the pooled features are in `ws.features`, the logits in `ws.logits`.
    public func forward(_ ws: ClassifierWorkspace, _ ctx: LayerContext, images: UnsafePointer<Float>) {
        let N = ws.batch
        var (h, w) = (config.height, config.width)
        stem.forward(ws.stem.pointer, images, stem.geometry(batch: N, height: h, width: w), ctx)
        var input = UnsafePointer(ws.stem.pointer)
        for (i, s) in stages.enumerated() {
            let b = ws.stages[i]
            s.down.forward(b.c1.pointer, input, s.down.geometry(batch: N, height: h, width: w), ctx)
            h = (h + 1) / 2; w = (w + 1) / 2
            let shape = normShape(N, h * w, s.conv.outChannels)
            GroupNorm.forward(
                b.h1.pointer, b.mean1.pointer, b.rstd1.pointer, b.c1.pointer, ctx.w(s.norm1.gamma),
                ctx.w(s.norm1.beta), shape, scratch: ctx.norm)
            s.conv.forward(b.c2.pointer, b.h1.pointer, s.conv.geometry(batch: N, height: h, width: w), ctx)
            GroupNorm.forward(
                b.h2.pointer, b.mean2.pointer, b.rstd2.pointer, b.c2.pointer, ctx.w(s.norm2.gamma),
                ctx.w(s.norm2.beta), shape, scratch: ctx.norm)
            input = UnsafePointer(b.h2.pointer)
        }
        Pooling.forward(ws.features.pointer, input, N: N, HW: h * w, C: featureCount)
        Dense.forward(
            ws.logits.pointer, ws.features.pointer, ctx.w(denseWeight), ctx.w(denseBias), M: N, inputs: featureCount,
            outputs: config.classes, scratch: ctx.gemm)
    }

    /// Parameter gradients += the gradient of the loss whose gradient by the logits is
    /// `dlogits` [N, classes], after `forward` on the same images.
    public func backward(
        _ ws: ClassifierWorkspace, _ ctx: LayerContext, images: UnsafePointer<Float>, dlogits: UnsafePointer<Float>
    ) {
        let N = ws.batch, F = featureCount
        let sizes = stages.indices.map { config.size(afterStage: $0) }
        ws.dFeatures.pointer.update(repeating: 0, count: N * F)
        Dense.backward(
            ws.dFeatures.pointer, ctx.g(denseWeight), ctx.g(denseBias), dlogits, ws.features.pointer,
            ctx.w(denseWeight), M: N, inputs: F, outputs: config.classes, scratch: ctx.gemm)
        let (hl, wl) = sizes.last!
        // dA: the gradient of the current stage's output; dB: work of the same size.
        var dOut = ws.gradA.pointer
        dOut.update(repeating: 0, count: N * hl * wl * F)
        Pooling.backward(dOut, ws.dFeatures.pointer, N: N, HW: hl * wl, C: F)
        for i in stages.indices.reversed() {
            let s = stages[i], b = ws.stages[i]
            let (h, w) = sizes[i]
            let (hin, win) = i == 0 ? (config.height, config.width) : sizes[i - 1]
            let C = s.conv.outChannels, P = N * h * w
            let shape = normShape(N, h * w, C)
            let dc = ws.gradB.pointer
            dc.update(repeating: 0, count: P * C)
            GroupNorm.backward(
                dc, ctx.g(s.norm2.gamma), ctx.g(s.norm2.beta), dOut, b.c2.pointer, b.mean2.pointer, b.rstd2.pointer,
                ctx.w(s.norm2.gamma), ctx.w(s.norm2.beta), shape, scratch: ctx.norm)
            // dOut's memory takes dh1, then (after its GroupNorm) dc1 goes to gradB's.
            dOut.update(repeating: 0, count: P * C)
            s.conv.backward(dOut, dc, b.h1.pointer, s.conv.geometry(batch: N, height: h, width: w), ctx)
            dc.update(repeating: 0, count: P * C)
            GroupNorm.backward(
                dc, ctx.g(s.norm1.gamma), ctx.g(s.norm1.beta), dOut, b.c1.pointer, b.mean1.pointer, b.rstd1.pointer,
                ctx.w(s.norm1.gamma), ctx.w(s.norm1.beta), shape, scratch: ctx.norm)
            let input = i == 0 ? ws.stem.pointer : ws.stages[i - 1].h2.pointer
            let inChannels = s.down.inChannels
            // The input's gradient goes to the buffer not holding dc1 (gradA): swap roles.
            let dIn = ws.gradA.pointer
            dIn.update(repeating: 0, count: N * hin * win * inChannels)
            s.down.backward(dIn, dc, input, s.down.geometry(batch: N, height: hin, width: win), ctx)
            dOut = dIn
        }
        stem.backward(nil, dOut, images, stem.geometry(batch: N, height: config.height, width: config.width), ctx)
    }
}

/// The memory of one batch size: every stage's saved activations and statistics, the
/// features, logits and probabilities, and two gradient buffers of the largest activation.
public final class ClassifierWorkspace: @unchecked Sendable {
    public let batch: Int
    let stem: FloatBuffer
    struct StageBuffers {
        let c1, h1, c2, h2: FloatBuffer
        let mean1, rstd1, mean2, rstd2: FloatBuffer
    }
    let stages: [StageBuffers]
    public let features, logits, probabilities: FloatBuffer
    let dFeatures, dLogits, gradA, gradB: FloatBuffer

    public init(_ net: Classifier, batch N: Int) {
        precondition(N > 0, "a batch needs images")
        batch = N
        let c = net.config
        stem = FloatBuffer(count: N * c.height * c.width * c.stemWidth)
        var largest = stem.count
        stages = c.widths.indices.map { i in
            let (h, w) = c.size(afterStage: i)
            let n = N * h * w * c.widths[i]
            largest = max(largest, n)
            func stats() -> FloatBuffer { FloatBuffer(count: N * 8) }
            return StageBuffers(
                c1: FloatBuffer(count: n), h1: FloatBuffer(count: n), c2: FloatBuffer(count: n),
                h2: FloatBuffer(count: n), mean1: stats(), rstd1: stats(), mean2: stats(), rstd2: stats())
        }
        features = FloatBuffer(count: N * net.featureCount)
        dFeatures = FloatBuffer(count: N * net.featureCount)
        logits = FloatBuffer(count: N * c.classes)
        probabilities = FloatBuffer(count: N * c.classes)
        dLogits = FloatBuffer(count: N * c.classes)
        gradA = FloatBuffer(count: largest)
        gradB = FloatBuffer(count: largest)
    }

    /// Bytes a workspace of `batch` images takes, computed without allocating: the stem, four
    /// saved maps per stage, and two gradient buffers of the largest map (statistics and the
    /// small head buffers are left out: below a kilobyte an image).
    public static func plannedBytes(_ c: ClassifierConfig, batch N: Int) -> Int {
        var total = N * c.height * c.width * c.stemWidth, largest = total
        for i in c.widths.indices {
            let (h, w) = c.size(afterStage: i)
            let n = N * h * w * c.widths[i]
            total += 4 * n
            largest = max(largest, n)
        }
        return 4 * (total + 2 * largest)
    }
}
