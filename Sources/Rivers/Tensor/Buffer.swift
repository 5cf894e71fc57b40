// Aligned float storage: the one allocation primitive of the engine.
import Foundation

/// A 64-byte aligned, zero-initialized block of floats, freed when the last reference goes.
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

/// Memory that grows to the largest size asked of it and is then reused, so that repeated
/// calls of a kernel with the same shapes allocate nothing. For trivial element types
/// (floats, doubles, pointers): contents are left uninitialized.
public final class ScratchBuffer<Element>: @unchecked Sendable {
    private var pointer: UnsafeMutablePointer<Element>
    private var capacity = 0

    public init() { pointer = ScratchBuffer.allocate(1) }
    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Element> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Element>.stride, alignment: 64)
            .bindMemory(to: Element.self, capacity: max(count, 1))
    }

    /// At least `count` elements, 64-byte aligned; the contents are unspecified.
    public func elements(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            UnsafeMutableRawPointer(pointer).deallocate()
            pointer = ScratchBuffer.allocate(count)
            capacity = count
        }
        return pointer
    }
}

/// Float scratch, the common case.
public typealias Scratch = ScratchBuffer<Float>
