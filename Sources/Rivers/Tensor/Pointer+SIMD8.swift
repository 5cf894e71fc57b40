// Unaligned SIMD8 loads and stores through typed pointers: how every kernel moves eight lanes.
import Foundation

extension UnsafePointer where Pointee: SIMDScalar {
    /// self[i..<i + 8] as one vector, at any alignment.
    @inline(__always) func simd8(at i: Int = 0) -> SIMD8<Pointee> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD8<Pointee>.self)
    }
}

extension UnsafeMutablePointer where Pointee: SIMDScalar {
    /// self[i..<i + 8] as one vector, at any alignment.
    @inline(__always) func simd8(at i: Int = 0) -> SIMD8<Pointee> {
        UnsafeRawPointer(self + i).loadUnaligned(as: SIMD8<Pointee>.self)
    }

    /// Writes v to self[i..<i + 8], at any alignment.
    @inline(__always) func storeSIMD8(_ v: SIMD8<Pointee>, at i: Int = 0) {
        UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: SIMD8<Pointee>.self)
    }
}
