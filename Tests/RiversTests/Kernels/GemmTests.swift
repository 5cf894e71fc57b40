// GEMM against its naive twin, every transpose combination and awkward sizes.
import Foundation
import XCTest
import Rivers
import RiversCPU
import RiversTestSupport

final class GemmTests: KernelPathTestCase {
    /// The run's micro-kernel is its path's: 12 x 32 for AVX-512, 6 x 16 otherwise.
    func testTheMicroKernelIsThePaths() {
        onEveryPath {
            XCTAssertEqual(Gemm.kernel.isa, path == .avx512 ? .avx512 : .avx2)
            XCTAssertEqual([Gemm.mr, Gemm.nr], path == .avx512 ? [12, 32] : [6, 16])
        }
    }

    func testMatchesNaive() {
        onEveryPath {
            for (M, N, K) in [(1, 1, 1), (7, 5, 3), (13, 17, 200), (97, 33, 450), (6, 16, 192), (100, 3, 7)] {
                for ta in [false, true] {
                    for tb in [false, true] {
                        let a = randomArray(M * K, seed: 1), b = randomArray(K * N, seed: 2),
                            bias = randomArray(N, seed: 3)
                        var fast = randomArray(M * N, seed: 4), slow = fast
                        let lda = ta ? M : K, ldb = tb ? K : N
                        for accumulate in [false, true] {
                            Gemm.multiply(
                                M: M, N: N, K: K, a: a, lda: lda, transposeA: ta, b: b, ldb: ldb, transposeB: tb,
                                c: &fast, ldc: N, bias: accumulate ? nil : bias, accumulate: accumulate,
                                scratch: GemmScratch())
                            Gemm.multiplyNaive(
                                M: M, N: N, K: K, a: a, lda: lda, transposeA: ta, b: b, ldb: ldb, transposeB: tb,
                                c: &slow, ldc: N, bias: accumulate ? nil : bias, accumulate: accumulate)
                            assertClose(
                                fast, slow, atol: 2 * sumTolerance(terms: K + 1),
                                "M \(M) N \(N) K \(K) ta \(ta) tb \(tb) acc \(accumulate)")
                        }
                    }
                }
            }
        }
    }
}
