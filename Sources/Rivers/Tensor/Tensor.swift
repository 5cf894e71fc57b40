// The engine's tensor: NHWC (or any rank) Float32, contiguous, shape-checked at entry points.
import Foundation

/// A contiguous Float32 tensor. Images are NHWC: [batch, height, width, channels].
/// Copies share storage (a reference); kernels write through `pointer`. A tensor may be a view
/// (`offset` and `shape`) into a larger buffer: a parameter slab or an activation arena.
public struct Tensor: CustomStringConvertible {
    public let shape: [Int]
    public let storage: FloatBuffer
    /// Where the tensor starts in `storage`, in floats.
    public let offset: Int

    /// Zeros of the given shape.
    public init(shape: [Int]) {
        precondition(
            !shape.isEmpty && shape.allSatisfy { $0 > 0 }, "tensor shape \(shape) must have positive dimensions")
        self.shape = shape
        storage = FloatBuffer(count: shape.reduce(1, *))
        offset = 0
    }

    /// A view of `shape` at `offset` floats into `storage` (shares its memory).
    public init(viewOf storage: FloatBuffer, offset: Int, shape: [Int]) {
        precondition(
            !shape.isEmpty && shape.allSatisfy { $0 > 0 }, "tensor shape \(shape) must have positive dimensions")
        precondition(
            offset >= 0 && offset + shape.reduce(1, *) <= storage.count,
            "view of \(shape) at \(offset) does not fit a buffer of \(storage.count) floats")
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    /// The given values, in row-major order.
    public init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape) (\(count) expected)")
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    public var count: Int { shape.reduce(1, *) }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    public var description: String { "Tensor\(shape)" }

    /// The NHWC dimensions of a rank-4 tensor.
    public var nhwc: (n: Int, h: Int, w: Int, c: Int) {
        precondition(shape.count == 4, "expected an NHWC tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// Checks the shape, naming the operation and argument in the failure.
    public func expect(_ expected: [Int], _ what: @autoclosure () -> String) {
        precondition(shape == expected, "\(what()): shape \(shape), expected \(expected)")
    }

    /// Standard normal values from the given generator.
    public static func normal(shape: [Int], using rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.pointer[i] = rng.normal() * scale }
        return t
    }
}
