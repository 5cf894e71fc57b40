// GEMM: a register-blocked micro-kernel that reads A through row pointers (no packing of A),
// B packed into column strips as wide as the micro-tile, cache blocking and threads over row
// blocks. Convolutions drive the same micro-kernel with their own row pointers (implicit GEMM).
// The micro-kernel is the kernel path's (RIVERS_ISA): 6x16 in SIMD8 for AVX2 (and NEON), 12x32
// in SIMD16 for AVX-512 (RiversAVX512, built for x86-64-v4).
import Foundation
import RiversAVX512
import RiversCPU

/// One kernel path's GEMM micro-kernel: its register tile and its code.
public struct MicroKernel: Sendable {
    public typealias Tile =
        @Sendable (
            Int, UnsafePointer<UnsafePointer<Float>>, Int, UnsafePointer<Float>, Int,
            UnsafePointer<UnsafeMutablePointer<Float>?>, Int, Int, Bool, UnsafePointer<Float>?
        ) -> Void
    public let isa: ISA
    /// Rows and columns of the micro-tile; B is packed in `nr`-column strips.
    public let mr: Int
    public let nr: Int
    let tile: Tile

    public static let avx2 = MicroKernel(isa: .avx2, mr: 6, nr: 16) {
        Gemm.tile($0, $1, $2, $3, $4, $5, $6, $7, $8, $9)
    }
    public static let avx512 = MicroKernel(isa: .avx512, mr: AVX512.mr, nr: AVX512.nr) {
        AVX512.tile($0, $1, $2, $3, $4, $5, $6, $7, $8, $9)
    }

    /// The micro-kernel of a kernel path (arm64's is the SIMD8 one, as NEON builds it).
    public static func of(_ isa: ISA) -> MicroKernel { isa == .avx512 ? .avx512 : .avx2 }

    /// One micro-tile (see `Gemm.tile`), by this kernel; the AVX2 one inlined.
    @inline(__always)
    func run(
        _ k: Int, _ a: UnsafePointer<UnsafePointer<Float>>, _ aStep: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafePointer<UnsafeMutablePointer<Float>?>, _ n0: Int, _ nCount: Int, _ add: Bool,
        _ bias: UnsafePointer<Float>?
    ) {
        if isa == .avx512 {
            tile(k, a, aStep, b, ldb, c, n0, nCount, add, bias)
        } else {
            Gemm.tile(k, a, aStep, b, ldb, c, n0, nCount, add, bias)
        }
    }
}

/// Everything the GEMM and convolution kernels reuse between calls: packed B, per-thread
/// pointer tables, partial sums, segment lists. One per layer (or per shape) means a step
/// allocates nothing once every shape has been seen.
public final class GemmScratch: @unchecked Sendable {
    let packed = Scratch()
    let partial = Scratch()
    let padded = Scratch()
    let columns = Scratch()
    let winograd = Scratch()
    /// One scratch per thread, for kernels that split work over threads themselves.
    var threadScratch: [GemmScratch] = []
    var segments: [(k0: Int, count: Int)] = []
    var segmentTaps: [(dy: Int, dx: Int, c0: Int)] = []
    var taps: [(ky: Int, kx: Int, dy: Int, dx: Int)] = []
    /// Per-thread tables of A-row and C-row pointers.
    let aRows = ScratchBuffer<UnsafePointer<Float>>()
    let cRows = ScratchBuffer<UnsafeMutablePointer<Float>?>()

    public init() {}
}

public enum Gemm {
    /// The micro-kernel of the kernel path in use (`KernelPath.current`, set at startup).
    public static var kernel: MicroKernel { .of(KernelPath.current) }
    /// Rows and columns of its micro-tile (AVX2: 6 x 16, 12 accumulators + 2 B + 1 A registers).
    public static var mr: Int { kernel.mr }
    public static var nr: Int { kernel.nr }
    /// K per block: a KC x NR strip of B (12 KiB) stays in L1 while the tiles of a block pass
    /// (192 measured faster than 256 and 288 on the U-Net's 64-channel shapes).
    public static let kc = 192
    /// Rows per block: MC rows of A over KC (96 KiB) stay in L2 while the strips of B pass.
    public static let mc = 96

    /// The AVX2 micro-tile (6 x 16): C[r, n0..<n0+nCount] (+)= sum_p A_r[p * aStep] * B[p * ldb + j] for the six
    /// rows r, where A_r = a[r]. Rows whose C pointer is nil are computed and dropped (row tails).
    /// `bias` (nCount values) is added when given; with `add`, C is accumulated into.
    @inline(__always)
    public static func tile(
        _ k: Int, _ a: UnsafePointer<UnsafePointer<Float>>, _ aStep: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafePointer<UnsafeMutablePointer<Float>?>, _ n0: Int, _ nCount: Int,
        _ add: Bool, _ bias: UnsafePointer<Float>?
    ) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        let a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5]
        var bp = b
        var off = 0
        for _ in 0..<k {
            let b0 = bp.simd8()
            let b1 = bp.simd8(at: 8)
            var x = SIMD8<Float>(repeating: a0[off]); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a1[off]); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a2[off]); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a3[off]); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a4[off]); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: a5[off]); c50.addProduct(x, b0); c51.addProduct(x, b1)
            off &+= aStep
            bp += ldb
        }
        var bias0 = SIMD8<Float>(), bias1 = SIMD8<Float>()
        if let bias {
            for j in 0..<nCount { if j < 8 { bias0[j] = bias[j] } else { bias1[j - 8] = bias[j] } }
        }
        @inline(__always) func store(_ r: Int, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>) {
            guard let base = c[r] else { return }
            let dst = base + n0
            var lo = lo + bias0, hi = hi + bias1
            if nCount == 16 {
                if add {
                    lo += dst.simd8()
                    hi += dst.simd8(at: 8)
                }
                dst.storeSIMD8(lo)
                dst.storeSIMD8(hi, at: 8)
            } else {
                for j in 0..<nCount {
                    let v = j < 8 ? lo[j] : hi[j - 8]
                    dst[j] = add ? dst[j] + v : v
                }
            }
        }
        store(0, c00, c01); store(1, c10, c11); store(2, c20, c21)
        store(3, c30, c31); store(4, c40, c41); store(5, c50, c51)
    }

    /// Packs B (K x N; B[k, n] = b[k * ldb + n], or b[n * ldb + k] when `transposed`) into
    /// NR-column strips, strip-major then k-major: dst[s * kTotal * NR + (kOffset + k) * NR + j],
    /// zero past N. `kOffset` and `kTotal` let several pieces (a convolution's taps) fill one panel.
    public static func packB(
        _ dst: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, K: Int, N: Int, ldb: Int,
        transposed: Bool, kOffset: Int = 0, kTotal: Int? = nil
    ) {
        let total = kTotal ?? K
        let nr = Gemm.nr
        let strips = (N + nr - 1) / nr
        for s in 0..<strips {
            let n0 = s * nr, nj = min(nr, N - n0)
            let d = dst + s * total * nr + kOffset * nr
            if transposed {
                for j in 0..<nr {
                    if j < nj {
                        let src = b + (n0 + j) * ldb
                        for k in 0..<K { d[k * nr + j] = src[k] }
                    } else {
                        for k in 0..<K { d[k * nr + j] = 0 }
                    }
                }
            } else if nj == nr {
                // A whole strip: nr / 8 vector copies a row.
                for k in 0..<K {
                    let src = b + k * ldb + n0, row = d + k * nr
                    var j = 0
                    while j < nr {
                        row.storeSIMD8(src.simd8(at: j), at: j)
                        j += 8
                    }
                }
            } else {
                for k in 0..<K {
                    let src = b + k * ldb + n0
                    for j in 0..<nr { d[k * nr + j] = j < nj ? src[j] : 0 }
                }
            }
        }
    }

    /// Floats needed to pack a K x N matrix.
    public static func packedSize(K: Int, N: Int) -> Int {
        let nr = Gemm.nr
        return ((N + nr - 1) / nr) * nr * K
    }

    /// Fills the A-row table of one row block: `table[s * stride + i]` is row m0 + i of A for
    /// segment s, for i in 0..<stride (rows past the block's end repeat a valid row; they are
    /// computed and dropped). Called once per block, so per-row index arithmetic stays out of
    /// the tile loop.
    public typealias FillA = (
        _ m0: Int, _ rows: Int, _ table: UnsafeMutablePointer<UnsafePointer<Float>>, _ stride: Int
    ) -> Void

    /// The row-block driver shared by GEMM and the convolutions.
    /// For each block of MC rows (blocks split over threads, a static round-robin), for each
    /// K segment, for each 16-column strip, for each 6-row tile: one micro-tile.
    /// - `segments`: the K axis as pieces (k0, length); a convolution makes one per tap.
    /// - `fillA`: A's row pointers per segment for a block (element p of a row at [p * aStep]).
    /// - `rowC(m)`: C's row m (column 0), nil for a row not stored.
    /// - `packedB`: B packed by `packB` over the whole K.
    /// The first segment overwrites C unless `accumulate`, and adds `bias` either way.
    public static func drive(
        M: Int, N: Int, segments: [(k0: Int, count: Int)], aStep: Int,
        fillA: FillA, rowC: (Int) -> UnsafeMutablePointer<Float>?,
        packedB: UnsafePointer<Float>, K: Int, bias: UnsafePointer<Float>?, accumulate: Bool, scratch: GemmScratch,
        maxThreads: Int? = nil
    ) {
        if M == 0 || N == 0 { return }
        let kernel = Gemm.kernel, mr = kernel.mr, nr = kernel.nr
        let strips = (N + nr - 1) / nr
        let blocks = (M + mc - 1) / mc
        let threads = max(1, min(maxThreads ?? Parallel.threadCount, blocks))
        let stride = ((mc + mr - 1) / mr) * mr
        let tableSize = max(segments.count, 1) * stride
        let tables = scratch.aRows.elements(threads * tableSize), cTables = scratch.cRows.elements(threads * stride)
        withoutActuallyEscaping(fillA) { fillA in
            withoutActuallyEscaping(rowC) { rowC in
                let body = { (t: Int) in
                    let table = tables + t * tableSize
                    let cRows = cTables + t * stride
                    var block = t
                    while block < blocks {
                        let m0 = block * mc, mCount = min(mc, M - m0)
                        let tiles = (mCount + mr - 1) / mr
                        for i in 0..<(tiles * mr) { cRows[i] = i < mCount ? rowC(m0 + i) : nil }
                        if segments.isEmpty {
                            if !accumulate {
                                for i in 0..<mCount { if let r = cRows[i] { for n in 0..<N { r[n] = bias?[n] ?? 0 } } }
                            }
                            block += threads
                            continue
                        }
                        fillA(m0, mCount, table, stride)
                        for si in 0..<segments.count {
                            let seg = segments[si]
                            let add = accumulate || si > 0
                            let segBias = si == 0 ? bias : nil
                            let rows = table + si * stride
                            for s in 0..<strips {
                                let n0 = s * nr, nCount = min(nr, N - n0)
                                let b = packedB + s * K * nr + seg.k0 * nr
                                var r0 = 0
                                while r0 < mCount {
                                    kernel.run(
                                        seg.count, rows + r0, aStep, b, nr, cRows + r0, n0, nCount, add,
                                        segBias.map { $0 + n0 })
                                    r0 += mr
                                }
                            }
                        }
                        block += threads
                    }
                }
                if threads <= 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: threads, execute: body) }
            }
        }
    }

    /// K split into KC-long segments, into the scratch's reusable list.
    static func segments(K: Int, into list: inout [(k0: Int, count: Int)]) {
        list.removeAll(keepingCapacity: true)
        var k0 = 0
        while k0 < K { list.append((k0, min(kc, K - k0))); k0 += kc }
    }

    /// C = op(A) op(B) + bias (+ C when `accumulate`), row-major: op(A) is M x K, op(B) K x N.
    /// `scratch` holds packed B and the row tables, reused across calls.
    public static func multiply(
        M: Int, N: Int, K: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, scratch: GemmScratch, maxThreads: Int? = nil
    ) {
        let packed = scratch.packed.elements(packedSize(K: K, N: N))
        packB(packed, b, K: K, N: N, ldb: ldb, transposed: transposeB)
        segments(K: K, into: &scratch.segments)
        let segs = scratch.segments
        // A[m, k] = a[m * lda + k]; transposed, a[k * lda + m]: row m starts at a + m, steps by lda.
        let (rowStep, kStep, aStep) = transposeA ? (1, lda, lda) : (lda, 1, 1)
        drive(
            M: M, N: N, segments: segs, aStep: aStep,
            fillA: { m0, rows, table, stride in
                for si in 0..<segs.count {
                    for i in 0..<stride {
                        table[si * stride + i] = a + min(m0 + i, M - 1) * rowStep + segs[si].k0 * kStep
                    }
                }
            }, rowC: { c + $0 * ldc }, packedB: packed, K: K, bias: bias, accumulate: accumulate, scratch: scratch,
            maxThreads: maxThreads)
    }

    /// C = A B (+ C when `accumulate`) for row-major A (M x K, leading dimension lda) and B
    /// already packed by `packB`, on the calling thread only: for callers that split the work
    /// over threads themselves.
    public static func multiplySerial(
        M: Int, N: Int, K: Int, a: UnsafePointer<Float>, lda: Int, packedB: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, scratch: GemmScratch
    ) {
        segments(K: K, into: &scratch.segments)
        let segs = scratch.segments
        drive(
            M: M, N: N, segments: segs, aStep: 1,
            fillA: { m0, rows, table, stride in
                for si in 0..<segs.count {
                    for i in 0..<stride { table[si * stride + i] = a + min(m0 + i, M - 1) * lda + segs[si].k0 }
                }
            }, rowC: { c + $0 * ldc }, packedB: packedB, K: K, bias: nil, accumulate: accumulate, scratch: scratch,
            maxThreads: 1)
    }

    /// The naive twin: three loops, sums in Double. Tests compare the fast path against it.
    public static func multiplyNaive(
        M: Int, N: Int, K: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false
    ) {
        for m in 0..<M {
            for n in 0..<N {
                var s = Double(bias?[n] ?? 0)
                for k in 0..<K {
                    let av = transposeA ? a[k * lda + m] : a[m * lda + k]
                    let bv = transposeB ? b[n * ldb + k] : b[k * ldb + n]
                    s += Double(av) * Double(bv)
                }
                c[m * ldc + n] = accumulate ? c[m * ldc + n] + Float(s) : Float(s)
            }
        }
    }
}
