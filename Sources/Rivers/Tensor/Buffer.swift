// Aligned float storage: the one allocation primitive of the engine.
import Foundation

/// A 64-byte aligned, zero-initialised block of floats, freed when the last reference goes.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// Scratch memory that grows to the largest size asked of it and is then reused, so that
/// repeated calls of a kernel with the same shapes allocate nothing.
public final class Scratch: @unchecked Sendable {
    private var buffer = FloatBuffer(count: 0)
    public init() {}

    /// At least `count` floats; the contents are unspecified.
    public func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }
}
