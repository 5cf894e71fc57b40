// The training step: AdamW and EMA by hand, the schedule and normalizer, determinism,
// learning on a tiny dataset, checkpoint round trips and the generator's saved state.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class TrainingTests: XCTestCase {
    func testAdamWAndEMAFollowKerasByHand() {
        var layout = ParameterLayout()
        _ = layout.add("w", [3], .zeros)
        let slab = ParameterSlab(layout: layout)
        let w0: [Double] = [0.5, -1.0, 2.0]
        for i in 0..<3 { slab.values.pointer[i] = Float(w0[i]); slab.ema.pointer[i] = Float(w0[i]) }
        let grads: [[Double]] = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.3], [-0.2, 0.1, 0.0]]
        let (lr, wd, b1, b2, eps, decay) = (1e-2, 1e-3, 0.9, 0.999, 1e-7, 0.99)
        var optimizer = AdamW(learningRate: Float(lr), weightDecay: Float(wd))
        // Keras: w -= lr wd w; m, v updated; w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps).
        var w = w0, m = [0.0, 0, 0], v = [0.0, 0, 0], ema = w0
        for (t, g) in grads.enumerated() {
            for i in 0..<3 { slab.grads.pointer[i] = Float(g[i]) }
            optimizer.update(slab)
            EMA.update(slab, decay: Float(decay))
            let step = Double(t + 1)
            let alpha = lr * (1 - pow(b2, step)).squareRoot() / (1 - pow(b1, step))
            for i in 0..<3 {
                w[i] -= lr * wd * w[i]
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                w[i] -= alpha * m[i] / (v[i].squareRoot() + eps)
                ema[i] = decay * ema[i] + (1 - decay) * w[i]
            }
        }
        XCTAssertEqual(optimizer.step, 3)
        // Float32 against Double over three steps of O(1) values: a few ulp, 1e-6.
        for i in 0..<3 {
            XCTAssertEqual(Double(slab.values.pointer[i]), w[i], accuracy: 1e-6)
            XCTAssertEqual(Double(slab.adamM.pointer[i]), m[i], accuracy: 1e-6)
            XCTAssertEqual(Double(slab.adamV.pointer[i]), v[i], accuracy: 1e-7)
            XCTAssertEqual(Double(slab.ema.pointer[i]), ema[i], accuracy: 1e-6)
        }
    }

    func testScheduleAndNormalizer() {
        let schedule = CosineSchedule()
        let start = schedule.rates(0), end = schedule.rates(1)
        XCTAssertEqual(start.signal, 0.95, accuracy: 1e-12)
        XCTAssertEqual(end.signal, 0.01, accuracy: 1e-12)
        let mid = schedule.rates(0.37)
        XCTAssertEqual(mid.noise * mid.noise + mid.signal * mid.signal, 1, accuracy: 1e-12)
        var acc = Normalizer.Accumulator()
        let pixels: [UInt8] = [0, 255, 10, 255, 255, 30]
        acc.add(pixels, pixels: 2)
        let n = acc.finish()
        // Channel 0: values 0 and 1: mean 0.5, variance 0.25. Channel 1: both 1: variance 0.
        XCTAssertEqual(n.mean[0], 0.5, accuracy: 1e-7)
        XCTAssertEqual(n.variance[0], 0.25, accuracy: 1e-7)
        XCTAssertEqual(n.variance[1], 0, accuracy: 1e-7)
        var x: [Float] = [1, 1, 0.2]
        n.normalize(&x, pixels: 1)
        XCTAssertEqual(x[0], 1, accuracy: 1e-6)  // (1 - 0.5) / 0.5
        XCTAssertEqual(x[1], 0, accuracy: 1e-6)  // zero variance: divided by 1e-7, numerator 0
        n.denormalize(&x, pixels: 1)
        XCTAssertEqual(x[0], 1, accuracy: 1e-6)
    }

    /// A tiny trainer and a few images with structure (a gradient and a stripe) to learn.
    func tinyTrainer(seed: UInt64 = 42, learningRate: Float = 2e-3, mixed: Bool = false) throws -> (
        DiffusionTrainer, [Float]
    ) {
        let config = UNetConfig(widths: [8, 16], blockDepth: 1, embeddingDims: 8)
        let (N, H, W) = (4, 8, 8)
        let trainer = try DiffusionTrainer(
            config: config, batch: N, height: H, width: W, mixedPrecision: mixed,
            learningRate: learningRate, seed: seed)
        var images = [Float](repeating: 0, count: N * H * W * 3)
        for n in 0..<N {
            for y in 0..<H {
                for x in 0..<W {
                    for c in 0..<3 {
                        images[((n * H + y) * W + x) * 3 + c] =
                            c == 2 ? (y == 3 ? 0.9 : 0.2) : Float(x + n) / Float(W + N)
                    }
                }
            }
        }
        var acc = Normalizer.Accumulator()
        let bytes = images.map { UInt8(($0 * 255).rounded()) }
        acc.add(bytes, pixels: N * H * W)
        trainer.normalizer = acc.finish()
        return (trainer, images)
    }

    func testSameSeedGivesBitIdenticalWeights() throws {
        let (a, images) = try tinyTrainer(), (b, _) = try tinyTrainer()
        for _ in 0..<3 { a.step(images); b.step(images) }
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: a.slab.values.pointer, count: a.slab.count)),
            Array(UnsafeBufferPointer(start: b.slab.values.pointer, count: b.slab.count)))
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: a.slab.ema.pointer, count: a.slab.count)),
            Array(UnsafeBufferPointer(start: b.slab.ema.pointer, count: b.slab.count)))
        let (c, _) = try tinyTrainer(seed: 43)
        c.step(images)
        XCTAssertNotEqual(a.slab.values.pointer[0], c.slab.values.pointer[0])
    }

    func testTinyNetworkLearns() throws {
        let (trainer, images) = try tinyTrainer()
        var losses: [Float] = []
        for _ in 0..<300 { losses.append(trainer.step(images).nLoss) }
        let first = losses[0..<30].reduce(0, +) / 30, last = losses[270..<300].reduce(0, +) / 30
        // At the start the network predicts almost nothing (the head is zero): n_loss is
        // E|z| = 0.80 for standard normal noise. Learning to read the noise back out of the
        // noisy image (easy at high noise, where noisy ~ noise) brings it well below that;
        // 0.8x the first 30 steps' mean is beyond what the random draws of t alone move it
        // (their means over 30 steps differ by a few percent).
        XCTAssertGreaterThan(first, 0.7)
        XCTAssertLessThan(last, 0.8 * first, "n_loss \(first) -> \(last)")
    }

    func testCheckpointRoundTripRestoresEverythingAndResumesExactly() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/last.safetensors"
        let (a, images) = try tinyTrainer()
        for _ in 0..<2 { a.step(images) }
        try Checkpoint.save(a, epoch: 2, extra: ["label": "3"], to: path)
        let (b, _) = try tinyTrainer(seed: 99)
        let state = try Checkpoint.load(path, into: b)
        XCTAssertEqual(state.epoch, 2)
        XCTAssertEqual(state.step, 2)
        XCTAssertEqual(state.extra["label"], "3")
        for (x, y) in [
            (a.slab.values, b.slab.values), (a.slab.ema, b.slab.ema), (a.slab.adamM, b.slab.adamM),
            (a.slab.adamV, b.slab.adamV),
        ] {
            XCTAssertEqual(
                Array(UnsafeBufferPointer(start: x.pointer, count: a.slab.count)),
                Array(UnsafeBufferPointer(start: y.pointer, count: b.slab.count)))
        }
        XCTAssertEqual(a.normalizer, b.normalizer)
        XCTAssertEqual(a.optimizer, b.optimizer)
        // The restored seed and step key the same draws: the next steps agree bit for bit.
        for _ in 0..<2 { XCTAssertEqual(a.step(images), b.step(images)) }
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: a.slab.values.pointer, count: a.slab.count)),
            Array(UnsafeBufferPointer(start: b.slab.values.pointer, count: b.slab.count)))
    }

    /// `--init_from`: the weights and EMA of a run trained at one size start a trainer at another,
    /// whose optimizer (moments, step), normalizer and seed stay a new run's; another network is
    /// refused naming both, before anything is copied.
    func testInitFromCopiesWeightsAndEMAOnly() throws {
        let dir = try makeTempDir(self)
        let path = dir + "/last.safetensors"
        let (a, images) = try tinyTrainer()
        for _ in 0..<3 { a.step(images) }
        try Checkpoint.save(a, epoch: 3, to: path)
        let b = try DiffusionTrainer(
            config: a.net.config, batch: 2, height: 16, width: 24, learningRate: 2e-3, seed: 5)
        let fresh = (b.normalizer, b.optimizer, b.seed)
        let source = try Checkpoint.initSource(dir, network: b.net.config)
        XCTAssertEqual(source.path, FileOps.canonicalPath(path), "a run directory means its last checkpoint")
        XCTAssertEqual([source.state.epoch, source.state.step], [3, 3])
        try Checkpoint.loadWeights(source.path, into: b)
        for (x, y) in [(a.slab.values, b.slab.values), (a.slab.ema, b.slab.ema)] {
            XCTAssertEqual(
                Array(UnsafeBufferPointer(start: x.pointer, count: a.slab.count)),
                Array(UnsafeBufferPointer(start: y.pointer, count: b.slab.count)))
        }
        XCTAssertTrue(UnsafeBufferPointer(start: b.slab.adamM.pointer, count: b.slab.count).allSatisfy { $0 == 0 })
        XCTAssertEqual(b.normalizer, fresh.0)
        XCTAssertEqual(b.optimizer, fresh.1)
        XCTAssertEqual(b.optimizer.step, 0)
        XCTAssertEqual(b.seed, fresh.2)
        // It trains at its own size from there.
        var big = [Float](repeating: 0, count: 2 * 16 * 24 * 3)
        for i in big.indices { big[i] = Float(i % 7) / 7 }
        XCTAssertTrue(b.step(big).nLoss.isFinite)
        // Another network: refused, naming both, before any copy.
        let other = UNetConfig(widths: [8, 24], blockDepth: 1, embeddingDims: 8)
        assertFileError(
            try Checkpoint.initSource(dir, network: other), path: path,
            reason:
                "was trained with widths 8 16, block depth 1, embedding 8, no attention; the new run's network has widths 8 24"
        )
        assertFileError(
            try Checkpoint.initSource(dir + "/none", network: a.net.config), path: dir + "/none",
            reason: "missing: --init_from needs a run")
    }

    func testCheckpointErrorsNameTheFile() throws {
        let dir = try makeTempDir(self)
        let (trainer, _) = try tinyTrainer()
        assertFileError(
            try Checkpoint.load(dir + "/missing.safetensors", into: trainer), path: dir + "/missing.safetensors",
            reason: "does not exist")
        let junk = dir + "/junk.safetensors"
        writeFile(junk, Data([1, 2, 3]))
        assertFileError(try Checkpoint.load(junk, into: trainer), path: junk, reason: "not a valid safetensors")
        // A checkpoint of another configuration is refused, not half-loaded.
        let other = try DiffusionTrainer(
            config: UNetConfig(widths: [8, 24], blockDepth: 1, embeddingDims: 8), batch: 1, height: 8, width: 8)
        let path = dir + "/other.safetensors"
        try Checkpoint.save(other, epoch: 0, to: path)
        let before = trainer.slab.values.pointer[0]
        assertFileError(try Checkpoint.load(path, into: trainer), path: path, reason: "another network configuration")
        XCTAssertEqual(trainer.slab.values.pointer[0], before)
        // A file of the right configuration missing one tensor is refused before anything is copied.
        let (donor, _) = try tinyTrainer(seed: 7)
        let good = try SafeTensors.decode(try Checkpoint.encode(donor, epoch: 1), path: "x")
        var entries: [SafeTensors.Entry] = []
        var keep: [FloatBuffer] = []
        for (name, t) in good.tensors.sorted(by: { $0.key < $1.key }) where name != "adam_v/head.bias" {
            let buffer = FloatBuffer(count: t.values.count)
            buffer.pointer.update(from: t.values, count: t.values.count)
            keep.append(buffer)
            entries.append(.init(name: name, shape: t.shape, pointer: buffer.pointer))
        }
        let partial = dir + "/partial.safetensors"
        writeFile(partial, try withExtendedLifetime(keep) { try SafeTensors.encode(entries, metadata: good.metadata) })
        assertFileError(try Checkpoint.load(partial, into: trainer), path: partial, reason: "adam_v/head.bias")
        XCTAssertEqual(trainer.slab.values.pointer[0], before)
        // A header claiming an absurd shape is an error, not a crash.
        let header = Data(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#.utf8)
        var bogus = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bogus.append(contentsOf: $0) }
        bogus.append(header)
        bogus.append(Data(count: 16))
        XCTAssertThrowsError(try SafeTensors.decode(bogus, path: "bogus")) {
            XCTAssertTrue("\($0)".contains("larger than the file"), "\($0)")
        }
    }

    func testSafeTensorsLayoutIsReadableByOtherTools() throws {
        // The header is JSON with dtype, shape and byte offsets; data is little-endian Float32.
        let values: [Float] = [1.5, -2, 3.25, 0, 7, 8]
        let data = try values.withUnsafeBufferPointer {
            try SafeTensors.encode([.init(name: "a", shape: [2, 3], pointer: $0.baseAddress!)], metadata: ["k": "v"])
        }
        let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as! [String: Any]
        let entry = header["a"] as! [String: Any]
        XCTAssertEqual(entry["dtype"] as? String, "F32")
        XCTAssertEqual(entry["shape"] as? [Int], [2, 3])
        XCTAssertEqual(entry["data_offsets"] as? [Int], [0, 24])
        XCTAssertEqual((header["__metadata__"] as? [String: String])?["k"], "v")
        XCTAssertEqual((8 + n) % 8, 0)
        let file = try SafeTensors.decode(data, path: "x")
        XCTAssertEqual(file.tensors["a"]?.values, values)
    }

    func testGeneratorStateContinuesTheSequence() {
        var a = SeededGenerator(seed: 5)
        _ = a.normal()  // leaves a cached spare normal
        var b = SeededGenerator(state: a.state)!
        XCTAssertEqual((0..<10).map { _ in a.normal() }, (0..<10).map { _ in b.normal() })
        XCTAssertNil(SeededGenerator(state: [0, 0, 0, 0, 0]))
        XCTAssertNil(SeededGenerator(state: [1, 2]))
    }

    func testMixedPrecisionTrainerRunsAndPlansLessMemory() throws {
        let (f32, images) = try tinyTrainer(), (f16, _) = try tinyTrainer(mixed: true)
        let a = f32.step(images), b = f16.step(images)
        // The same draws and weights: the first step's forward losses differ only by the
        // Float16 rounding of saved activations read back within the forward pass (2^-11).
        XCTAssertEqual(a.nLoss, b.nLoss, accuracy: 1e-2)
        XCTAssertLessThan(f16.workspace.memory.savedBytes, f32.workspace.memory.savedBytes)
    }

    func testReadmeExampleRuns() throws {
        // The README's library example, with its placeholders filled in.
        let dir = try makeTempDir(self)
        let batch = randomArray(4 * 32 * 96 * 3, seed: 1).map { ($0 + 1) / 2 }
        let rgbBytes = batch.map { UInt8(($0 * 255).rounded()) }, pixelCount = 4 * 32 * 96
        let noisyImage = randomArray(32 * 96 * 3, seed: 2)

        let config = UNetConfig(widths: [32, 64], blockDepth: 2, embeddingDims: 32)
        let trainer = try DiffusionTrainer(
            config: config, batch: 4, height: 32, width: 96, learningRate: 1e-4, seed: 42)
        var statistics = Normalizer.Accumulator()
        statistics.add(rgbBytes, pixels: pixelCount)
        trainer.normalizer = statistics.finish()
        let metrics = trainer.step(batch)
        XCTAssertTrue(metrics.nLoss.isFinite && metrics.iLoss.isFinite)
        try Checkpoint.save(trainer, epoch: 1, to: dir + "/last.safetensors")
        let ws = try UNetWorkspace(trainer.net, batch: 1, height: 32, width: 96, mixedPrecision: false, training: false)
        let ctx = LayerContext(weights: trainer.slab.ema.pointer)
        let predictedNoise = trainer.net.predictNoise(ws, ctx, images: noisyImage, variances: [0.5])
        XCTAssertEqual(predictedNoise.count, 32 * 96 * 3)
        // The EMA moved 0.1% of the way from the initial weights (head zero) towards the
        // trained ones, so the prediction is small but not zero.
        XCTAssertTrue(predictedNoise.contains { $0 != 0 })
        XCTAssertTrue(predictedNoise.allSatisfy { $0.isFinite })
    }

    func testBadTrainingValuesAreRefused() {
        let config = UNetConfig(widths: [8, 16], blockDepth: 1, embeddingDims: 8)
        for lr in [Float.nan, 0, -1, .infinity] {
            XCTAssertThrowsError(try DiffusionTrainer(config: config, batch: 1, height: 8, width: 8, learningRate: lr))
            { error in
                XCTAssertTrue("\(error)".contains("learning_rate"), "\(error)")
            }
        }
        XCTAssertThrowsError(try DiffusionTrainer(config: config, batch: 0, height: 8, width: 8)) {
            XCTAssertTrue("\($0)".contains("batch_size"))
        }
        XCTAssertThrowsError(try DiffusionTrainer(config: config, batch: 1, height: 7, width: 8)) {
            XCTAssertTrue("\($0)".contains("7"))
        }
    }
}
