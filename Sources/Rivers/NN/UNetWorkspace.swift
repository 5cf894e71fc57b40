// Activation memory of the U-Net for one (configuration, batch, image size): planned once,
// allocated once, and reused by every step, so a step allocates nothing.
import Foundation

/// A tensor kept from the forward pass to the backward pass: `count` values of `channels`
/// per pixel, in the compressible arena (Float16 with mixed precision) or in the Float32 one.
struct Slot: Equatable {
    var offset: Int, count: Int, channels: Int
    var half: Bool
}

/// Where a block's input comes from.
indirect enum Source {
    case slot(Slot)
    /// swish of a saved pre-activation (the output of a down- or up-sampling convolution).
    case swishOf(Slot)
    /// Channel concat of an input and a skip connection.
    case concat(Source, Slot)

    var channels: Int {
        switch self {
        case .slot(let s), .swishOf(let s): return s.channels
        case .concat(let a, let s): return a.channels + s.channels
        }
    }
}

/// One stage with its memory: saved slots, offsets in the Float32 side memory, its input.
struct StagePlan {
    let stage: Stage
    let input: Source
    let inHeight: Int, inWidth: Int, height: Int, width: Int
    /// Block: c1, c2, out (the residual's output), then attention's output when present.
    /// Down/up: `out` is the convolution's output before its swish.
    var c1: Slot? = nil, c2: Slot? = nil
    var out: Slot
    var attentionOut: Slot? = nil
    /// Offsets (floats) in the side memory: block statistics, attention's saved tensors.
    var stats = 0, attentionSaved = 0
    /// The index of the skip this stage pushes or concatenates.
    var skip: Int?
    /// What the next stage reads.
    var output: Slot { attentionOut ?? out }
}

/// How much memory a workspace takes, by part, in bytes.
public struct MemoryPlan: Equatable, Sendable {
    /// Activations kept for the backward pass (Float16 where mixed precision allows).
    public var savedBytes: Int
    /// Work buffers, skip gradients and statistics (Float32).
    public var workBytes: Int
    /// Kernel scratch (packed weights, partial sums, padded inputs), estimated from the shapes.
    public var scratchBytes: Int
    /// The five parameter buffers (weights, gradients, two moments, EMA).
    public var parameterBytes: Int
    public var totalBytes: Int { savedBytes + workBytes + scratchBytes + parameterBytes }
}

/// The memory of one (network, batch, image size, precision): the saved-activation arena, the
/// side memory of statistics and attention, and the work buffers. Build one and reuse it.
public final class UNetWorkspace: @unchecked Sendable {
    public let batch: Int, height: Int, width: Int
    public let mixedPrecision: Bool
    /// Whether gradient memory exists (the backward pass can run).
    public let training: Bool
    let plans: [StagePlan]
    let x0: Slot
    let skipSlots: [Slot]
    /// Saved activations: Float32 slots, Float16 slots, Float32 side memory.
    let full: FloatBuffer, half: ScratchBuffer<HalfStorage>
    let side: FloatBuffer
    /// Work: wide buffers (the largest block input), narrow ones (the largest stage output).
    let wide: [FloatBuffer], narrow: [FloatBuffer]
    /// Float32 stand-ins for Float16 slots while they are written or read (mixed precision only).
    let halfTemps: [FloatBuffer]
    /// Skip gradients (one region per skip, Float32) and attention work.
    let skipGrads: FloatBuffer, attentionWork: FloatBuffer
    /// The step's input images, embedding and prediction.
    public let input: FloatBuffer, embedding: FloatBuffer, output: FloatBuffer
    public let memory: MemoryPlan

    /// Plans and allocates the memory of `net` for batch x height x width images.
    /// Without `training`, only the forward pass can run: no gradient memory is allocated.
    public init(_ net: UNet, batch N: Int, height: Int, width: Int, mixedPrecision: Bool, training: Bool = true) throws
    {
        let layout = try Layout(
            net, batch: N, height: height, width: width, mixedPrecision: mixedPrecision, training: training)
        self.batch = N; self.height = height; self.width = width; self.mixedPrecision = mixedPrecision;
        self.training = training
        plans = layout.plans
        x0 = layout.x0
        skipSlots = layout.skips
        full = FloatBuffer(count: layout.fullCount)
        half = ScratchBuffer<HalfStorage>()
        _ = half.elements(layout.halfCount)
        side = FloatBuffer(count: layout.sideCount)
        wide = layout.wideCounts.map { FloatBuffer(count: $0) }
        narrow = layout.narrowCounts.map { FloatBuffer(count: $0) }
        // The third stand-in (a block's output in forward, attention's input in backward) is never
        // live at the same time as the gradient buffer narrow[1], which it shares when training.
        let own = layout.halfTempCounts.map { FloatBuffer(count: $0) }
        halfTemps = training ? [own[0], own[1], narrow[1]] : own
        skipGrads = FloatBuffer(count: layout.skipGradCount)
        attentionWork = FloatBuffer(count: layout.attentionWork)
        input = FloatBuffer(count: layout.imageCount)
        embedding = FloatBuffer(count: N * net.config.embeddingDims)
        output = FloatBuffer(count: layout.imageCount)
        memory = layout.memory
    }

    /// The memory a workspace of these shapes would take, computed without allocating it, so
    /// that a command can refuse a run that will not fit before it starts.
    public static func plannedMemory(
        _ net: UNet, batch: Int, height: Int, width: Int, mixedPrecision: Bool, training: Bool = true
    ) throws -> MemoryPlan {
        try Layout(net, batch: batch, height: height, width: width, mixedPrecision: mixedPrecision, training: training)
            .memory
    }

    /// Every offset and size of a workspace: the stages' slots and the buffers' lengths.
    struct Layout {
        var plans: [StagePlan] = [], skips: [Slot] = []
        var x0: Slot
        var fullCount = 0, halfCount = 0, sideCount = 0
        var wideCounts: [Int] = [], narrowCounts: [Int] = [], halfTempCounts: [Int] = []
        var skipGradCount = 0, attentionWork = 1, imageCount: Int
        var memory: MemoryPlan

        init(_ net: UNet, batch N: Int, height: Int, width: Int, mixedPrecision: Bool, training: Bool) throws {
            try net.config.validate(height: height, width: width)
            guard N > 0 else {
                throw RiversError.setting(
                    section: "train", key: "batch_size", reason: "must be positive (got \(N))", file: nil)
            }
            // Sizes whose element counts would not even fit an address space: refused before any
            // arithmetic on them can overflow.
            let channelBound = Double(2 * (net.config.widths.max() ?? 0) + net.config.embeddingDims)
            guard Double(N) * Double(height) * Double(width) * channelBound * 16 < 0x1p56 else {
                throw RiversError.usage("batch \(N) of \(height)x\(width) images is far too large to plan")
            }
            // Attention keeps L x L probabilities per head, L the pixels of its level.
            let levels = net.config.widths.count - 1
            let length =
                net.config.attentionInUpDownSample
                ? Double(height * width)
                : net.config.attentionInBottleneck ? Double((height >> levels) * (width >> levels)) : 0
            guard Double(N) * 4 * length * length < 0x1p56 else {
                throw RiversError.usage(
                    "attention over \(Int(length)) pixels of batch \(N) is far too large to plan; attention at this image size needs smaller images"
                )
            }
            var fullCount = 0, halfCount = 0, sideCount = 0
            // Without training nothing is kept for a backward pass: every block writes its two
            // convolutions' outputs (c1, c2) into the same two regions at the start of the Float32
            // arena, so only the stage outputs (skips and the next stage's input) take memory.
            var transient = 0
            if !training {
                for stage in net.stages {
                    if case .block(let block, _, let level, _, _) = stage {
                        transient = max(transient, N * (height >> level) * (width >> level) * block.width)
                    }
                }
                fullCount = 2 * transient
            }
            func transientSlot(_ k: Int, _ level: Int, _ channels: Int) -> Slot {
                Slot(
                    offset: k * transient, count: N * (height >> level) * (width >> level) * channels,
                    channels: channels, half: false)
            }
            func slot(_ level: Int, _ channels: Int, keepFull: Bool = false) -> Slot {
                let count = N * (height >> level) * (width >> level) * channels
                let isHalf = mixedPrecision && !keepFull
                let s = Slot(offset: isHalf ? halfCount : fullCount, count: count, channels: channels, half: isHalf)
                if isHalf { halfCount += count } else { fullCount += count }
                return s
            }
            x0 = slot(0, net.config.widths[0])
            imageCount = N * height * width * 3
            var stack: [Int] = []
            var previous: Source = .slot(x0)
            var wideCount = 0, narrowCount = imageCount
            for stage in net.stages {
                switch stage {
                case .block(let block, let attention, let level, let pushes, let pops):
                    let (h, w) = (height >> level, width >> level)
                    var input = previous
                    var skip: Int? = nil
                    if pops { skip = stack.removeLast(); input = .concat(previous, skips[skip!]) }
                    precondition(
                        input.channels == block.inChannels,
                        "stage input has \(input.channels) channels, block expects \(block.inChannels)")
                    let c1 = training ? slot(level, block.width) : transientSlot(0, level, block.width)
                    let c2 = training ? slot(level, block.width) : transientSlot(1, level, block.width)
                    var p = StagePlan(
                        stage: stage, input: input, inHeight: h, inWidth: w, height: h, width: w,
                        c1: c1, c2: c2, out: slot(level, block.width))
                    p.stats = sideCount; sideCount += block.statsCount(batch: N) + block.sliceCount
                    if pushes { skip = skips.count; skips.append(p.out); stack.append(skip!) }
                    p.skip = skip
                    if let attention {
                        p.attentionOut = slot(level, block.width, keepFull: true)
                        p.attentionSaved = sideCount; sideCount += attention.savedCount(batch: N, length: h * w)
                        attentionWork = max(attentionWork, attention.workCount(batch: N, length: h * w))
                    }
                    wideCount = max(wideCount, N * h * w * block.inChannels)
                    narrowCount = max(narrowCount, N * h * w * block.width)
                    plans.append(p)
                    previous = .slot(p.output)
                case .down(let conv, let level), .up(let conv, let level):
                    guard case .slot(let inSlot) = previous else {
                        preconditionFailure("a sampling stage reads a saved output")
                    }
                    let isDown: Bool
                    if case .down = stage { isDown = true } else { isDown = false }
                    let (inLevel, outLevel) = isDown ? (level, level + 1) : (level + 1, level)
                    let p = StagePlan(
                        stage: stage, input: previous, inHeight: height >> inLevel, inWidth: width >> inLevel,
                        height: height >> outLevel, width: width >> outLevel, out: slot(outLevel, conv.outChannels))
                    narrowCount = max(narrowCount, inSlot.count, p.out.count)
                    plans.append(p)
                    previous = .swishOf(p.out)
                }
            }
            wideCount = max(wideCount, narrowCount)
            self.fullCount = fullCount; self.halfCount = halfCount; self.sideCount = sideCount
            // Wide: the materialized input, the block's wide work, its wide gradient, the concat's
            // gradient. Narrow: the block's narrow work and gradient, two gradients that alternate
            // between stages. With mixed precision, three Float32 copies of Float16 slots.
            let gradient = training ? 1 : 0
            wideCounts = [wideCount, wideCount, wideCount * gradient, wideCount * gradient]
            narrowCounts = [narrowCount, narrowCount * gradient, narrowCount * gradient, narrowCount * gradient]
            halfTempCounts = [
                mixedPrecision ? narrowCount : 0, mixedPrecision ? narrowCount : 0,
                mixedPrecision && !training ? narrowCount : 0,
            ]
            skipGradCount = gradient * skips.reduce(0) { $0 + $1.count }
            // Kernel scratch: the weight gradient of short rows takes an im2col chunk (and pads
            // channels to 16 on those rows); packed weights and per-thread partial sums are at
            // most a few weight tensors; Winograd's largest convolution.
            let largestWeight = net.layout.params.map(\.count).max() ?? 0
            let widest = 2 * (net.config.widths.max() ?? 0) + net.config.embeddingDims
            let winograd = Winograd.scratchCount(
                ConvGeometry(batch: 1, height: 3, width: 3, inChannels: widest, outChannels: widest, kernel: 3))
            // Widths that are not multiples of 16 make the row kernel copy its input padded to 16.
            let maxWidth = net.config.widths.max() ?? 0
            let padded =
                net.config.widths.allSatisfy { $0 % 16 == 0 } ? 0 : N * height * width * ((2 * maxWidth + 15) / 16 * 16)
            let scratch =
                4 * (gradient * (Conv2D.columnFloats + padded) + (2 + Parallel.threadCount) * largestWeight + winograd)
            let work =
                4
                * ((wideCounts + narrowCounts + halfTempCounts).reduce(0, +) + skipGradCount + attentionWork + sideCount
                    + 2 * imageCount + N * net.config.embeddingDims)
            memory = MemoryPlan(
                savedBytes: 4 * fullCount + MemoryLayout<HalfStorage>.stride * halfCount, workBytes: work,
                scratchBytes: scratch,
                parameterBytes: 20 * net.parameterCount)
        }
    }

    // MARK: saved slots

    /// Where forward writes a slot's value in Float32: the slot itself, or (Float16 slots) `temp`.
    func target(_ s: Slot, _ temp: FloatBuffer) -> UnsafeMutablePointer<Float> {
        s.half ? temp.pointer : full.pointer + s.offset
    }

    /// Stores a value written at `target(s, temp)` (compresses Float16 slots).
    func commit(_ s: Slot, _ temp: FloatBuffer) {
        if s.half { Half.compress(half.elements(0) + s.offset, temp.pointer, s.count) }
    }

    /// A slot's value in Float32: the slot itself, or (Float16 slots) expanded into `temp`.
    func load(_ s: Slot, _ temp: FloatBuffer) -> UnsafeMutablePointer<Float> {
        guard s.half else { return full.pointer + s.offset }
        Half.expand(
            temp.pointer, dstStride: s.channels, half.elements(0) + s.offset, channels: s.channels,
            pixels: s.count / s.channels)
        return temp.pointer
    }

    /// Copies a slot, through `activation`, into channels [c0, c0 + s.channels) of `dst` (stride channels).
    func copy(_ s: Slot, into dst: UnsafeMutablePointer<Float>, stride: Int, activation: Activation) {
        let pixels = s.count / s.channels
        if s.half {
            Half.expand(
                dst, dstStride: stride, half.elements(0) + s.offset, channels: s.channels, pixels: pixels,
                activation: activation)
        } else {
            Half.copy(
                dst, dstStride: stride, full.pointer + s.offset, channels: s.channels, pixels: pixels,
                activation: activation)
        }
    }

    /// A source's value in Float32, materialized into `temp` unless it is a Float32 slot.
    func materialize(_ source: Source, _ temp: FloatBuffer) -> UnsafeMutablePointer<Float> {
        switch source {
        case .slot(let s): return load(s, temp)
        case .swishOf(let s):
            copy(s, into: temp.pointer, stride: s.channels, activation: .swish)
        case .concat(let a, let skip):
            let C = a.channels + skip.channels
            switch a {
            case .slot(let s): copy(s, into: temp.pointer, stride: C, activation: .identity)
            case .swishOf(let s): copy(s, into: temp.pointer, stride: C, activation: .swish)
            case .concat: preconditionFailure("nested concat")
            }
            copy(skip, into: temp.pointer + a.channels, stride: C, activation: .identity)
        }
        return temp.pointer
    }

    func skipGrad(_ index: Int) -> UnsafeMutablePointer<Float> {
        skipGrads.pointer + skipSlots[..<index].reduce(0) { $0 + $1.count }
    }
}
