// The machine's FMA peak, measured: a loop of independent 256-bit FMAs on every thread, and of
// 512-bit ones where the CPU has AVX-512 (code built for x86-64-v4, run only then).
import Dispatch
import Foundation
import RiversAVX512
import RiversCPU

enum Peak {
    /// GFLOP/s of `threads` threads each running 12 independent SIMD8 FMA chains (more than
    /// the 8 that cover a 4-cycle FMA latency on two pipes); the best of 5 rounds.
    static func measureGFLOPS(threads: Int) -> Double {
        measure(threads: threads, flopsPerIteration: 12 * 8 * 2) { chain256($0, $1) }
    }

    /// The same with 12 SIMD16 chains (512-bit FMAs); nil when the CPU lacks AVX-512.
    static func measure512GFLOPS(threads: Int) -> Double? {
        guard CPUFeatures.current.supported.contains(.avx512) else { return nil }
        return measure(threads: threads, flopsPerIteration: AVX512.flopsPerIteration) {
            AVX512.fmaChains(seed: $0, iterations: $1)
        }
    }

    /// The peak of the kernel path in use (512-bit FMAs for avx512, 256-bit otherwise): what the
    /// benchmarks' percentages are of.
    static func measurePathGFLOPS(threads: Int) -> Double {
        KernelPath.current == .avx512
            ? measure512GFLOPS(threads: threads) ?? measureGFLOPS(threads: threads) : measureGFLOPS(threads: threads)
    }

    /// "512-bit" or "256-bit": the width of the path's peak.
    static var pathWidth: String { KernelPath.current == .avx512 ? "512-bit" : "256-bit" }

    /// x = x * m + x on 12 independent SIMD8 chains: a chain the compiler cannot fold, whose
    /// values stay finite.
    @inline(never)
    static func chain256(_ seed: Float, _ iterations: Int) -> Float {
        let m = SIMD8<Float>(repeating: -0.000_000_1)
        var c0 = SIMD8<Float>(repeating: seed), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4
        var c5 = c0 + 5, c6 = c0 + 6, c7 = c0 + 7, c8 = c0 + 8, c9 = c0 + 9, c10 = c0 + 10, c11 = c0 + 11
        for _ in 0..<iterations {
            c0 = c0.addingProduct(c0, m); c1 = c1.addingProduct(c1, m); c2 = c2.addingProduct(c2, m)
            c3 = c3.addingProduct(c3, m); c4 = c4.addingProduct(c4, m); c5 = c5.addingProduct(c5, m)
            c6 = c6.addingProduct(c6, m); c7 = c7.addingProduct(c7, m); c8 = c8.addingProduct(c8, m)
            c9 = c9.addingProduct(c9, m); c10 = c10.addingProduct(c10, m); c11 = c11.addingProduct(c11, m)
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).sum()
    }

    /// GFLOP/s of `threads` dedicated threads each running `chain(seed, iterations)`; the best of 5.
    static func measure(
        threads: Int, flopsPerIteration: Int, _ chain: @escaping @Sendable (Float, Int) -> Float
    ) -> Double {
        let iterations = 2_000_000
        let flopsPerThread = Double(iterations) * Double(flopsPerIteration)
        var best = 0.0
        for _ in 0..<5 {
            // Dedicated threads, started together: Dispatch may run a short concurrentPerform
            // on fewer threads than asked while its pool is still growing.
            final class Sink: @unchecked Sendable {
                var values: [Float]; init(_ n: Int) { values = [Float](repeating: 0, count: n) }
            }
            let sink = Sink(threads)
            let ready = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0),
                done = DispatchSemaphore(value: 0)
            for t in 0..<threads {
                let thread = Thread {
                    ready.signal()
                    go.wait()
                    let v = chain(Float(t), iterations); sink.values.withUnsafeMutableBufferPointer { $0[t] = v }
                    done.signal()
                }
                thread.start()
            }
            for _ in 0..<threads { ready.wait() }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<threads { go.signal() }
            for _ in 0..<threads { done.wait() }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flopsPerThread * Double(threads) / elapsed / 1e9)
        }
        return best
    }
}
