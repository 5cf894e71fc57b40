// Data parallelism without MPI: ranks as threads of one process, joined by an in-memory
// communicator. The MPI build uses the same loop; MPITests runs it under mpirun.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

/// `size` ranks as threads: every collective waits for all of them, then combines their
/// contributions in rank order (as rank 0 does under MPI), so every rank gets the same bits.
final class ThreadCommunicator: Communicator, @unchecked Sendable {
    final class Shared: @unchecked Sendable {
        let size: Int
        let condition = NSCondition()
        var arrived = 0, generation = 0
        var slots: [[Double]] = []
        var dataSlots: [Data] = []
        var result: [Double] = []
        var resultData = Data()
        init(size: Int) {
            self.size = size; slots = Array(repeating: [], count: size);
            dataSlots = Array(repeating: Data(), count: size)
        }

        /// Each rank deposits; the last to arrive combines; all leave with the result.
        func exchange(rank: Int, values: [Double], data: Data, combine: ([[Double]], [Data]) -> ([Double], Data)) -> (
            [Double], Data
        ) {
            condition.lock()
            defer { condition.unlock() }
            let myGeneration = generation
            slots[rank] = values
            dataSlots[rank] = data
            arrived += 1
            if arrived == size {
                (result, resultData) = combine(slots, dataSlots)
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == myGeneration { condition.wait() }
            }
            return (result, resultData)
        }
    }

    let shared: Shared
    let rank: Int
    var size: Int { shared.size }
    init(_ shared: Shared, rank: Int) { self.shared = shared; self.rank = rank }

    func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let mine = (0..<count).map { Double(values[$0]) }
        // Float sums in rank order, as MPI_SUM on floats does at rank 0.
        let (sum, _) = shared.exchange(rank: rank, values: mine, data: Data()) { slots, _ in
            (
                (0..<count).map { i in Double(slots.dropFirst().reduce(Float(slots[0][i])) { $0 + Float($1[i]) }) },
                Data()
            )
        }
        for i in 0..<count { values[i] = Float(sum[i]) }
    }

    func allReduceSum(_ values: inout [Double]) {
        let n = values.count
        values =
            shared.exchange(rank: rank, values: values, data: Data()) { slots, _ in
                ((0..<n).map { i in slots.dropFirst().reduce(slots[0][i]) { $0 + $1[i] } }, Data())
            }.0
    }

    func broadcast(_ data: Data, root: Int) -> Data {
        shared.exchange(rank: rank, values: [], data: data) { _, datas in ([], datas[root]) }.1
    }

    func barrier() { _ = shared.exchange(rank: rank, values: [], data: Data()) { _, _ in ([], Data()) } }
    func abort(status: Int32) -> Never { fatalError("rank \(rank) aborted with \(status)") }
}

final class DataParallelTests: XCTestCase {
    /// Two shares of a global batch, their gradient slabs summed, take the step of the whole batch:
    /// the same draws per image (keyed by its place in the global batch), the same losses, and the
    /// same gradient up to the order of summation.
    func testTwoSharesOfABatchMakeTheWholeBatchsGradient() throws {
        let config = UNetConfig(widths: [8, 16], blockDepth: 1, embeddingDims: 8, attentionInBottleneck: true)
        let (H, W) = (8, 16), per = 8 * 16 * 3
        let whole = try DiffusionTrainer(config: config, batch: 4, height: H, width: W, learningRate: 1e-3, seed: 3)
        let halves = try (0..<2).map { _ in
            try DiffusionTrainer(config: config, batch: 2, height: H, width: W, learningRate: 1e-3, seed: 3)
        }
        for step in 0..<3 {
            let images = randomArray(4 * per, seed: UInt64(10 + step)).map { ($0 + 1) / 2 }
            let wholeSums = images.withUnsafeBufferPointer { whole.computeGradients($0.baseAddress!, first: 0, of: 4) }
            var sums = (nSum: 0.0, iSum: 0.0)
            for (r, t) in halves.enumerated() {
                let s = images.withUnsafeBufferPointer {
                    t.computeGradients($0.baseAddress! + 2 * r * per, first: 2 * r, of: 4)
                }
                sums.nSum += s.nSum; sums.iSum += s.iSum
            }
            // The same draws per image; the network's float results for an image may differ in
            // the last bits between batch sizes (the kernels block the batch differently), so the
            // sums agree to about float precision (1e-6 relative), not to the bit.
            XCTAssertEqual(sums.nSum, wholeSums.nSum, accuracy: 1e-6 * wholeSums.nSum)
            XCTAssertEqual(sums.iSum, wholeSums.iSum, accuracy: 1e-6 * wholeSums.iSum)
            let n = whole.slab.count
            let summed = (0..<n).map { halves[0].slab.grads.pointer[$0] + halves[1].slab.grads.pointer[$0] }
            let reference = Array(UnsafeBufferPointer(start: whole.slab.grads.pointer, count: n))
            // Each gradient element is a sum over images and pixels; splitting the batch changes
            // only the order of its float additions: relative 1e-4 of the largest element bounds
            // that (a wrong scale or a wrong image's noise would be off by tens of percent).
            let scale = reference.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            assertClose(summed, reference, atol: 1e-4 * scale)
            for t in halves {
                summed.withUnsafeBufferPointer { t.slab.grads.pointer.update(from: $0.baseAddress!, count: n) }
            }
            whole.applyGradients()
            halves.forEach { $0.applyGradients() }
        }
        // The two ranks applied the same update to the same weights: identical.
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: halves[0].slab.values.pointer, count: whole.slab.count)),
            Array(UnsafeBufferPointer(start: halves[1].slab.values.pointer, count: whole.slab.count)))
    }

    /// The training loop on two ranks (threads here) with the same global batch as one process:
    /// the same losses, epoch by epoch, within what summation order explains; rank 0 alone writes.
    func testTwoRankRunEqualsOneProcess() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/data", count: 9)
        var c = tinyTrainConfig()
        c.batchSize = 4; c.numEpochs = 3; c.imagesToGenerate = 0
        let load = TrainingImages.load(try TrainingImages.scan(root + "/data").images, height: c.height, width: c.width)
        let record = RunRecord(label: 3, inDir: root + "/data", train: c)

        let single = RunDirectory(root + "/one")
        try FileManager.default.createDirectory(atPath: single.path, withIntermediateDirectories: true)
        let one = try TrainingRun.start(in: single, record: record, data: load.images, comm: SingleProcess())
        XCTAssertEqual(try one.train(), .finished)

        let pair = RunDirectory(root + "/two")
        try FileManager.default.createDirectory(atPath: pair.path, withIntermediateDirectories: true)
        let shared = ThreadCommunicator.Shared(size: 2)
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var outcomes: [TrainingOutcome?] = [nil, nil], shares = [0, 0]
        }
        let results = Results()
        let group = DispatchGroup()
        for rank in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                let comm = ThreadCommunicator(shared, rank: rank)
                let run = try! TrainingRun.start(in: pair, record: record, data: load.images, comm: comm)
                let outcome = try! run.train()
                results.lock.lock(); results.outcomes[rank] = outcome; results.shares[rank] = run.trainer.batch;
                results.lock.unlock()
            }.start()
        }
        group.wait()
        XCTAssertEqual(results.outcomes, [.finished, .finished])
        XCTAssertEqual(results.shares, [2, 2], "each rank takes half of every global batch")
        let a = try single.readLog(), b = try pair.readLog()
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(b.count, 3, "rank 0 wrote the log once")
        for (x, y) in zip(a, b) {
            // The per-step losses are the same per-image numbers summed in another order, and the
            // weights they come from differ by the gradients' summation order: 1e-4 relative.
            XCTAssertEqual(x.nLoss, y.nLoss, accuracy: 1e-4 * x.nLoss, "epoch \(x.epoch)")
            XCTAssertEqual(x.iLoss, y.iLoss, accuracy: 1e-4 * x.iLoss, "epoch \(x.epoch)")
        }
        // Six AdamW steps of at most the learning rate (1e-3) each: gradients that differ in their
        // last bits move an update by a tiny fraction of that, so 1% of one step bounds the
        // difference (a rank that trained on other images would differ by whole steps).
        let w1 = try SafeTensors.read(single.lastCheckpoint), w2 = try SafeTensors.read(pair.lastCheckpoint)
        for (name, t) in w1.tensors where name.hasPrefix("weights/") {
            assertClose(w2.tensors[name]!.values, t.values, atol: 1e-5, "\(name)")
        }
        XCTAssertThrowsError(try TrainingRun.localBatch(c, ranks: 3), "4 does not split over 3 ranks")
    }
}
