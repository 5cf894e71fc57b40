// The U-Net: parameter counts, configuration checks, whole-network gradients against finite
// differences, the constant-channel first block against its materialized twin, Float16 storage.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

/// A tiny network, workspace and slab, with every parameter made non-trivial.
struct TinyNet {
    let net: UNet
    let slab: ParameterSlab
    let ws: UNetWorkspace
    let ctx: LayerContext

    init(_ config: UNetConfig, batch: Int, height: Int, width: Int, mixedPrecision: Bool = false, seed: UInt64 = 1)
        throws
    {
        net = try UNet(config)
        slab = ParameterSlab(layout: net.layout)
        var rng = SeededGenerator(seed: seed)
        slab.initialize(using: &rng)
        // The head starts at zero and biases at zero: perturb everything so that every
        // parameter's gradient is exercised.
        for i in 0..<slab.count { slab.values.pointer[i] += (rng.uniform() - 0.5) * 0.2 }
        ws = try UNetWorkspace(net, batch: batch, height: height, width: width, mixedPrecision: mixedPrecision)
        ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
    }

    /// sum r * network(images, variances), in Double; the dropout mask comes from `maskSeed`.
    func loss(_ images: [Float], _ variances: [Float], _ r: [Float], maskSeed: UInt64 = 5) -> Double {
        var rngs = (0..<ws.batch).map { SeededGenerator(seed: maskSeed, stream: [String($0)]) }
        net.forward(ws, ctx, images: images, variances: variances, training: true, rngs: &rngs)
        return (0..<r.count).reduce(0.0) { $0 + Double(r[$1]) * Double(ws.output.pointer[$1]) }
    }

    /// Parameter gradients (and the input's) of `loss`.
    func gradients(_ images: [Float], _ variances: [Float], _ r: [Float]) -> (params: [Float], images: [Float]) {
        _ = loss(images, variances, r)
        slab.zeroGradients()
        var dImages = [Float](repeating: 0, count: images.count)
        net.backward(ws, ctx, dOutput: r, dImages: &dImages)
        return (Array(UnsafeBufferPointer(start: slab.grads.pointer, count: slab.count)), dImages)
    }
}

final class UNetTests: KernelPathTestCase {
    func testParameterCountsOfMODEL() throws {
        let rows: [(UNetConfig, Int)] = [
            (UNetConfig(), 8_335_939),
            (UNetConfig(attentionInBottleneck: true), 8_731_075),
            (UNetConfig(attentionInBottleneck: true, attentionInUpDownSample: true), 9_450_691),
            (UNetConfig(widths: [32, 64, 96, 128], blockDepth: 2, embeddingDims: 128), 2_239_971),
        ]
        for (config, count) in rows {
            let net = try UNet(config)
            XCTAssertEqual(net.parameterCount, count, "\(config)")
            XCTAssertEqual(ParameterSlab(layout: net.layout).count, count)
        }
    }

    func testBadConfigurationsAreRefusedNamingTheValue() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message { _ = try UNet(UNetConfig(widths: [64, 128, 256, 516], embeddingDims: 516)) }.contains(
                "64 + 516 = 580"))
        XCTAssertTrue(message { _ = try UNet(UNetConfig(widths: [64, 100])) }.contains("100"))
        XCTAssertTrue(message { _ = try UNet(UNetConfig(widths: [64, -8])) }.contains("-8"))
        XCTAssertTrue(message { _ = try UNet(UNetConfig(blockDepth: 0)) }.contains("block_depth"))
        XCTAssertTrue(message { _ = try UNet(UNetConfig(embeddingDims: 0)) }.contains("embedding_dims"))
        XCTAssertTrue(message { _ = try UNet(UNetConfig(widths: [])) }.contains("widths"))
        let config = UNetConfig()
        XCTAssertNoThrow(try config.validate(height: 200, width: 600))
        XCTAssertNoThrow(try config.validate(height: 8, width: 8))
        // 25 is odd at level 0 (4 widths: levels 0, 1, 2 are halved).
        XCTAssertTrue(message { try config.validate(height: 25, width: 600) }.contains("25"))
        XCTAssertTrue(message { try config.validate(height: 4, width: 8) }.contains("too small"))
        XCTAssertTrue(message { try config.validate(height: 0, width: 8) }.contains("positive"))
    }

    func testMemoryIsPlannedWithoutAllocatingAndAbsurdSizesAreRefused() throws {
        try onEveryPath {
            let net = try UNet(UNetConfig())
            // The original's default run: planned, not allocated (this test would not fit otherwise).
            let f32 = try UNetWorkspace.plannedMemory(net, batch: 8, height: 200, width: 600, mixedPrecision: false)
            let f16 = try UNetWorkspace.plannedMemory(net, batch: 8, height: 200, width: 600, mixedPrecision: true)
            XCTAssertGreaterThan(f32.totalBytes, 8 << 30)
            XCTAssertLessThan(f16.savedBytes, f32.savedBytes * 6 / 10)
            let inference = try UNetWorkspace.plannedMemory(
                net, batch: 1, height: 200, width: 600, mixedPrecision: false, training: false)
            XCTAssertLessThan(inference.totalBytes, f32.totalBytes / 4)
            XCTAssertThrowsError(
                try UNetWorkspace.plannedMemory(
                    net, batch: 1_000_000_000, height: 100_000_000, width: 80_000_000, mixedPrecision: false)
            ) {
                XCTAssertTrue("\($0)".contains("far too large"))
            }
            let attention = try UNet(UNetConfig(attentionInUpDownSample: true))
            XCTAssertThrowsError(
                try UNetWorkspace.plannedMemory(
                    attention, batch: 1, height: 80_000, width: 80_000, mixedPrecision: false)
            ) {
                XCTAssertTrue("\($0)".contains("attention"))
            }
        }
    }

    func testForwardShapesOnTheOriginalsImageSizeArithmetic() throws {
        try onEveryPath {
            // 200 -> 100 -> 50 -> 25 and back up to exactly 200 (odd 25 at the bottom), on a narrow net.
            let tiny = try TinyNet(
                UNetConfig(widths: [8, 8, 8, 8], blockDepth: 1, embeddingDims: 8), batch: 1, height: 200, width: 24)
            XCTAssertEqual(tiny.ws.output.count, 200 * 24 * 3)
            let images = randomArray(200 * 24 * 3, seed: 1)
            let value = tiny.loss(images, [0.3], [Float](repeating: 1, count: images.count))
            XCTAssertTrue(value.isFinite)
        }
    }

    func testWholeNetworkGradientMatchesFiniteDifferences() throws {
        try onEveryPath {
            // Both attention flags on, an odd bottleneck (6x10 -> 3x5), batch 2.
            let config = UNetConfig(
                widths: [8, 16], blockDepth: 2, embeddingDims: 8, attentionInBottleneck: true,
                attentionInUpDownSample: true
            )
            let (N, H, W) = (2, 6, 10)
            let tiny = try TinyNet(config, batch: N, height: H, width: W)
            let images = randomArray(N * H * W * 3, seed: 2), variances: [Float] = [0.3, 0.8],
                r = randomArray(N * H * W * 3, seed: 3)
            let (grads, dImages) = tiny.gradients(images, variances, r)
            var rng = SeededGenerator(seed: 4)
            // The loss is a Float32 network summed in Double: central differences with eps = 1e-2
            // have rounding error ~1e-6 * |terms| * sqrt(360) / eps ~ 1e-3 and truncation ~eps^2 = 1e-4;
            // 3e-3 absolute plus 3% relative separates that from any missing or doubled term.
            func check(_ analytic: Float, _ perturb: (Float) -> Void, _ label: String) {
                let eps: Float = 1e-2
                perturb(eps)
                let up = tiny.loss(images, variances, r)
                perturb(-2 * eps)
                let down = tiny.loss(images, variances, r)
                perturb(eps)
                let numeric = (up - down) / Double(2 * eps)
                XCTAssertEqual(Double(analytic), numeric, accuracy: 3e-3 + 0.03 * abs(numeric), label)
            }
            var kinds = Set<String>()
            for p in tiny.net.layout.params {
                kinds.insert(String(p.name.split(separator: ".").suffix(2).joined(separator: ".")))
                for _ in 0..<2 {
                    let i = p.offset + Int(rng.next() % UInt64(p.count))
                    check(grads[i], { tiny.slab.values.pointer[i] += $0 }, p.name)
                }
            }
            // Every layer kind took part.
            for kind in [
                "shortcut.weight", "norm0.gamma", "conv1.weight", "norm2.beta", "downsample.weight", "upsample.weight",
                "query.weight", "output.bias", "stem.weight", "head.bias",
            ] {
                XCTAssertTrue(kinds.contains(kind), kind)
            }
            var copy = images
            for _ in 0..<12 {
                let i = Int(rng.next() % UInt64(images.count))
                let eps: Float = 1e-2
                copy[i] = images[i] + eps
                let up = tiny.loss(copy, variances, r)
                copy[i] = images[i] - eps
                let down = tiny.loss(copy, variances, r)
                copy[i] = images[i]
                let numeric = (up - down) / Double(2 * eps)
                XCTAssertEqual(Double(dImages[i]), numeric, accuracy: 3e-3 + 0.03 * abs(numeric), "input \(i)")
            }
        }
    }

    func testConstantChannelBlockEqualsItsMaterialisedTwin() {
        onEveryPath {
            // The first block with the embedding as per-image constants, against the same block
            // (same parameters, same layout) given the embedding materialized at every pixel.
            let (N, H, W, C, E, width) = (2, 5, 7, 8, 16, 8)
            var layoutA = ParameterLayout(), layoutB = ParameterLayout()
            let constant = ResidualBlock(&layoutA, "b", inChannels: C, constantChannels: E, width: width)
            let twin = ResidualBlock(&layoutB, "b", inChannels: C + E, width: width)
            XCTAssertEqual(layoutA.params, layoutB.params)
            let slab = ParameterSlab(layout: layoutA)
            var rng = SeededGenerator(seed: 3)
            slab.initialize(using: &rng)
            for i in 0..<slab.count { slab.values.pointer[i] += (rng.uniform() - 0.5) * 0.2 }
            let P = N * H * W
            let x = randomArray(P * C, seed: 1), emb = randomArray(N * E, seed: 2),
                dout = randomArray(P * width, seed: 3)
            var full = [Float](repeating: 0, count: P * (C + E))
            for p in 0..<P {
                for c in 0..<C { full[p * (C + E) + c] = x[p * C + c] }
                for e in 0..<E { full[p * (C + E) + C + e] = emb[(p / (H * W)) * E + e] }
            }
            func run(_ block: ResidualBlock, _ input: [Float], constants: [Float]?) -> (
                out: [Float], dx: [Float], grads: [Float]
            ) {
                let cin = block.inChannels
                let c1 = FloatBuffer(count: P * width), c2 = FloatBuffer(count: P * width),
                    out = FloatBuffer(count: P * width)
                let stats = FloatBuffer(count: block.statsCount(batch: N) + block.sliceCount)
                let wide = FloatBuffer(count: P * cin), narrow = FloatBuffer(count: P * width)
                let dx = FloatBuffer(count: P * cin), dc = FloatBuffer(count: P * width),
                    dWide = FloatBuffer(count: P * cin)
                let xs = FloatBuffer(count: input.count), cs = FloatBuffer(count: max(1, constants?.count ?? 0))
                xs.pointer.update(from: input, count: input.count)
                if let constants { cs.pointer.update(from: constants, count: constants.count) }
                let ctx = LayerContext(weights: slab.values.pointer, grads: slab.grads.pointer)
                slab.zeroGradients()
                let b = ResidualBlock.Buffers(
                    x: xs.pointer, constants: constants == nil ? nil : UnsafePointer(cs.pointer), c1: c1.pointer,
                    c2: c2.pointer,
                    out: out.pointer, stats: stats.pointer, slice: stats.pointer + block.statsCount(batch: N),
                    wide: wide.pointer, narrow: narrow.pointer)
                block.forward(b, batch: N, height: H, width: W, ctx)
                dout.withUnsafeBufferPointer { d in
                    block.backward(
                        b,
                        ResidualBlock.Gradients(
                            dout: d.baseAddress!, dx: dx.pointer, dc: dc.pointer, dWide: dWide.pointer),
                        batch: N, height: H, width: W, ctx)
                }
                return (
                    Array(UnsafeBufferPointer(start: out.pointer, count: P * width)),
                    Array(UnsafeBufferPointer(start: dx.pointer, count: P * cin)),
                    Array(UnsafeBufferPointer(start: slab.grads.pointer, count: slab.count))
                )
            }
            let a = run(constant, x, constants: emb), b = run(twin, full, constants: nil)
            // The two compute the same sums in different orders (per-image vectors vs per-pixel
            // products over 9 * (C + E) = 216 terms of O(1)): float rounding, under 1e-4.
            assertClose(a.out, b.out, atol: 1e-4, rtol: 1e-4, "forward")
            assertClose(
                a.dx, (0..<P).flatMap { p in (0..<C).map { b.dx[p * (C + E) + $0] } }, atol: 1e-4, rtol: 1e-4, "dx")
            // Weight gradients sum over all P = 70 pixels: 1e-3 relative to their O(10) size.
            assertClose(a.grads, b.grads, atol: 1e-3, rtol: 1e-4, "parameter gradients")
        }
    }

    func testFloat16StorageGradientsAreCloseToFloat32() throws {
        try XCTSkipIf(
            ObjectIdentifier(HalfStorage.self) == ObjectIdentifier(Float.self),
            "Float16 does not exist on this platform: mixed precision stores Float32")
        try onEveryPath {
            // Attention on: its input is read back through a Float32 stand-in in the backward pass.
            let config = UNetConfig(
                widths: [8, 16], blockDepth: 2, embeddingDims: 8, attentionInBottleneck: true,
                attentionInUpDownSample: true
            )
            let (N, H, W) = (2, 8, 12)
            let f32 = try TinyNet(config, batch: N, height: H, width: W, mixedPrecision: false)
            let f16 = try TinyNet(config, batch: N, height: H, width: W, mixedPrecision: true)
            // Float16 slots take half; attention outputs stay Float32 (beside their caches), so the
            // whole is a little over half.
            XCTAssertLessThan(f16.ws.memory.savedBytes, f32.ws.memory.savedBytes * 2 / 3)
            let images = randomArray(N * H * W * 3, seed: 2), variances: [Float] = [0.3, 0.8],
                r = randomArray(N * H * W * 3, seed: 3)
            let a = f32.gradients(images, variances, r).params, b = f16.gradients(images, variances, r).params
            // Float16 keeps 11 significant bits: each saved activation is off by up to 2^-11
            // relative (4.9e-4). A gradient sums many such products through the whole depth, with
            // errors of either sign: measured 2.2e-3 to 5.2e-3 in relative norm over three weight
            // seeds of this network (with both of the bottleneck attention's dropout masks, whose
            // zeros and 1.25 scales leave fewer, larger terms). A wrong or stale slot is off by
            // O(1) (above 0.1); 2e-2 lies between the two.
            let diff = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            let norm = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertGreaterThan(norm, 0)
            XCTAssertGreaterThan(diff, 0, "Float16 storage was not used")
            XCTAssertLessThan(diff / norm, 2e-2)
        }
    }
}
