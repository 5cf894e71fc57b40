// The Frechet distance, KID and the Jacobi eigensolver: closed forms, invariances, naive twins.
import Foundation
import XCTest
import Rivers

final class FrechetDistanceTests: XCTestCase {
    // MARK: the eigensolver

    func testEigenOfATwoByTwo() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1)/sqrt 2 and (1, 1)/sqrt 2.
        let e = SymmetricEigen([2, 1, 1, 2], dimension: 2)
        // One rotation solves a 2 x 2 up to the rounding of c and s: a few units of 1e-16.
        XCTAssertEqual(e.values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(e.values[1], 3, accuracy: 1e-14)
        let h = 0.5.squareRoot()
        XCTAssertEqual(abs(e.vectors[0 * 2 + 0]), h, accuracy: 1e-14)
        XCTAssertEqual(e.vectors[0 * 2 + 0], -e.vectors[1 * 2 + 0], accuracy: 1e-14)
        XCTAssertEqual(e.vectors[0 * 2 + 1], e.vectors[1 * 2 + 1], accuracy: 1e-14)
    }

    func testEigenReconstructsAndIsOrthonormalOnRandomMatrices() {
        var rng = SeededGenerator(seed: 5)
        for n in [1, 2, 3, 7, 32, 100] {
            let a = randomSymmetric(n, &rng)
            let e = SymmetricEigen(a, dimension: n)
            checkDecomposition(a, e, label: "random \(n)")
        }
    }

    func testEigenOfARankDeficientMatrix() {
        // X X^T with X 12 x 3: nine eigenvalues 0 (a nine-fold repeated value) and three positive.
        var rng = SeededGenerator(seed: 6)
        let n = 12, r = 3
        let x = (0..<(n * r)).map { _ in Double(rng.normal()) }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<r { a[i * n + j] += x[i * r + k] * x[j * r + k] } } }
        let e = SymmetricEigen(a, dimension: n)
        checkDecomposition(a, e, label: "rank 3")
        let scale = e.values.last!
        // Zero eigenvalues come out as round-off of the matrix's scale: below 1e-13 of the largest.
        for v in e.values.prefix(n - r) { XCTAssertLessThan(abs(v), 1e-13 * scale) }
        XCTAssertGreaterThan(e.values[n - r], 1e-3 * scale)
    }

    func testEigenOfTheLargestSupportedSize() {
        var rng = SeededGenerator(seed: 7)
        let a = randomSymmetric(256, &rng)
        let e = SymmetricEigen(a, dimension: 256)
        XCTAssertLessThan(e.sweeps, 20)
        checkDecomposition(a, e, label: "random 256")
    }

    func testSquareRootSquaresBack() {
        // A covariance of 50 samples in 6 dimensions: positive definite.
        var rng = SeededGenerator(seed: 8)
        let x = (0..<(50 * 6)).map { _ in Double(rng.normal()) }
        let (_, cov) = Frechet.meanAndCovariance(x, dimension: 6)
        let root = SymmetricEigen(cov, dimension: 6).squareRoot()
        for i in 0..<6 {
            for j in 0..<6 {
                let square = (0..<6).reduce(0.0) { $0 + root[i * 6 + $1] * root[$1 * 6 + j] }
                // Entries near 1; the root's rounding, squared and summed over 6 terms, stays near 1e-15.
                XCTAssertEqual(square, cov[i * 6 + j], accuracy: 1e-12)
            }
        }
    }

    // MARK: the Frechet distance

    func testDistanceOfASetToItselfIsZero() {
        // Full rank (200 samples, 16 dimensions): the eigenvalues of S^(1/2) S S^(1/2) = S^2 are
        // found to about 1e-16 of the largest, so their roots match S's eigenvalues closely and the
        // sum cancels against Tr(2 S) to about d * 1e-16 of Tr(S) (measured: -4e-14 for a trace
        // of 16). 1e-12 of the trace leaves a wide margin.
        var rng = SeededGenerator(seed: 10)
        let full = gaussianRows(200, 16, &rng)
        XCTAssertEqual(Frechet.distance(full, full)!, 0, accuracy: 1e-12 * trace(full))
        // Singular (20 samples in 32 dimensions, and 30 in 128, as a label with few photos): S's
        // zero eigenvalues come out as round-off near 1e-16 of the largest, their square roots
        // near 1e-8 of its root enter S^(1/2), and the cancellation is then good to about 1e-8 of
        // the trace (measured: -1.5e-8 and -5.8e-8 relative). 1e-6 leaves a margin of 17 and
        // still fails for any real error.
        for (n, d) in [(20, 32), (30, 128)] {
            let thin = gaussianRows(n, d, &rng)
            XCTAssertEqual(Frechet.distance(thin, thin)!, 0, accuracy: 1e-6 * trace(thin), "\(n) x \(d)")
        }
    }

    func testDistanceOfDiagonalCovariancesMatchesTheClosedForm() {
        // Full factorial designs: every combination of per-dimension levels, so the sample
        // cross-covariances are exactly 0 and each covariance is diagonal.
        let a = factorial(levels: [[-1, 0, 1], [-2, 2], [0.5, 1, 3]], shift: [0, 1, -1])
        let b = factorial(levels: [[-3, 0, 3], [-1, 1], [1, 2, 4]], shift: [2, 0, 0.5])
        let (muA, varA) = naiveMeanAndVariance(a)
        let (muB, varB) = naiveMeanAndVariance(b)
        var expected = 0.0
        for k in 0..<3 {
            expected += (muA[k] - muB[k]) * (muA[k] - muB[k]) + varA[k] + varB[k] - 2 * (varA[k] * varB[k]).squareRoot()
        }
        // Values of order 10 from small matrices: the eigen-route and the closed form differ by
        // round-off only, some 1e-15 relative; 1e-12 absolute is far above that and far below any error.
        XCTAssertEqual(Frechet.distance(a, b)!, expected, accuracy: 1e-12)
    }

    func testDistanceIsSymmetricAndInvariantUnderACommonRotation() {
        var rng = SeededGenerator(seed: 11)
        let d = 8
        let a = gaussianRows(100, d, &rng, scale: (0..<d).map { 1 + Double($0) / 4 })
        let b = gaussianRows(150, d, &rng, shift: 0.3)
        let ab = Frechet.distance(a, b)!, ba = Frechet.distance(b, a)!
        // The two orders take different routes (the root of S_b or of S_a) through the same
        // well-conditioned numbers; 1e-10 relative is far above their rounding.
        XCTAssertEqual(ab, ba, accuracy: 1e-10 * ab)
        // Rotating both sets by one orthogonal matrix (eigenvectors of a random symmetric matrix)
        // leaves the distance unchanged, and covariances that are no longer anywhere near diagonal
        // exercise the whole root.
        let q = SymmetricEigen(randomSymmetric(d, &rng), dimension: d).vectors
        func rotate(_ rows: [[Double]]) -> [[Double]] {
            rows.map { x in (0..<d).map { i in (0..<d).reduce(0.0) { $0 + q[i * d + $1] * x[$1] } } }
        }
        XCTAssertEqual(Frechet.distance(rotate(a), rotate(b))!, ab, accuracy: 1e-10 * ab)
    }

    func testDistanceOfAShiftedGaussianIsTheSquaredShift() {
        // 2000 samples of N(0, I_4) and of N(shift, I_4), |shift|^2 = 1.25. The estimate is off by
        // 2 shift . e (e the mean's error, variance 2/2000 per dimension: sd 2 |shift| sqrt(1e-3)
        // = 0.07) plus a positive bias of the covariance term (about 1e-2 here): 0.25 is 3.5 sd.
        var rng = SeededGenerator(seed: 12)
        let a = gaussianRows(2000, 4, &rng)
        let b = gaussianRows(2000, 4, &rng).map { [$0[0] + 1, $0[1] + 0.5, $0[2], $0[3]] }
        XCTAssertEqual(Frechet.distance(a, b)!, 1.25, accuracy: 0.25)
    }

    func testFlatFloatsAgreeWithRowsAndFewSamplesGiveNil() {
        var rng = SeededGenerator(seed: 13)
        let a = gaussianRows(30, 5, &rng), b = gaussianRows(40, 5, &rng, shift: 1)
        let fa = a.flatMap { $0.map(Float.init) }, fb = b.flatMap { $0.map(Float.init) }
        let rows = Frechet.distance(a.map { $0.map { Double(Float($0)) } }, b.map { $0.map { Double(Float($0)) } })!
        // The same Doubles in the same order: the same operations, the same result.
        XCTAssertEqual(Frechet.distance(fa, fb, dimension: 5)!, rows)
        XCTAssertNil(Frechet.distance([a[0]], b))
        XCTAssertNil(Frechet.distance(a, []))
        XCTAssertNil(Frechet.kernelInceptionDistance(a, [b[0]]))
        XCTAssertNil(Frechet.kernelInceptionDistance(Array(fa.prefix(5)), fb, dimension: 5))
    }

    // MARK: KID

    func testKIDMatchesANaiveTwin() {
        var rng = SeededGenerator(seed: 14)
        let a = gaussianRows(40, 6, &rng), b = gaussianRows(55, 6, &rng, shift: 0.4)
        func k(_ x: [Double], _ y: [Double]) -> Double {
            pow(zip(x, y).map { $0 * $1 }.reduce(0, +) / Double(x.count) + 1, 3)
        }
        var xx = 0.0, yy = 0.0, xy = 0.0
        for i in a.indices { for j in a.indices where i != j { xx += k(a[i], a[j]) } }
        for i in b.indices { for j in b.indices where i != j { yy += k(b[i], b[j]) } }
        for x in a { for y in b { xy += k(x, y) } }
        let m = Double(a.count), n = Double(b.count)
        let naive = xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)
        // Sums of a few thousand kernel values of order 1 in different orders: 1e-12 relative
        // is well above their rounding.
        XCTAssertEqual(Frechet.kernelInceptionDistance(a, b)!, naive, accuracy: 1e-12 * abs(naive))
    }

    func testKIDIsNearZeroForOneDistributionAndPositiveForAShift() {
        var rng = SeededGenerator(seed: 15)
        let a = gaussianRows(500, 8, &rng), b = gaussianRows(500, 8, &rng), c = gaussianRows(500, 8, &rng, shift: 0.5)
        let same = Frechet.kernelInceptionDistance(a, b)!
        let shifted = Frechet.kernelInceptionDistance(a, c)!
        // Kernel values here are of order 1 with spread about 1, so the unbiased estimate's sd at
        // 500 a side is a few 1e-3 (five draws measured: |KID| up to 0.006): 0.02 is several sd.
        // A shift of 0.5 in all 8 dimensions gives about 1.1 (measured 1.08-1.24): 0.1 is far below.
        XCTAssertLessThan(abs(same), 0.02)
        XCTAssertGreaterThan(shifted, 0.1)
        XCTAssertGreaterThan(shifted, 10 * abs(same))
    }

    // MARK: helpers

    private func checkDecomposition(_ a: [Double], _ e: SymmetricEigen, label: String) {
        let n = e.dimension
        let norm = a.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        let back = e.reconstructed()
        var worst = 0.0
        for i in 0..<(n * n) { worst = max(worst, abs(back[i] - a[i])) }
        // Converged to an off-diagonal norm of 1e-12 of the matrix's, plus rotations' rounding
        // growing with n (about n * 1e-16 per sweep): 1e-11 of the norm holds up to n = 256.
        XCTAssertLessThan(worst, 1e-11 * max(norm, 1), label)
        var orthogonality = 0.0
        for i in 0..<n {
            for j in 0..<n {
                let dot = (0..<n).reduce(0.0) { $0 + e.vectors[$1 * n + i] * e.vectors[$1 * n + j] }
                orthogonality = max(orthogonality, abs(dot - (i == j ? 1 : 0)))
            }
        }
        // Products of rotations stay orthogonal to rounding: some n * 1e-16 per sweep.
        XCTAssertLessThan(orthogonality, 1e-11, label)
        XCTAssertEqual(e.values, e.values.sorted(), label)
    }

    private func randomSymmetric(_ n: Int, _ rng: inout SeededGenerator) -> [Double] {
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                let v = Double(rng.uniform()) * 2 - 1
                a[i * n + j] = v; a[j * n + i] = v
            }
        }
        return a
    }

    private func gaussianRows(
        _ n: Int, _ d: Int, _ rng: inout SeededGenerator, shift: Double = 0, scale: [Double]? = nil
    ) -> [[Double]] {
        (0..<n).map { _ in (0..<d).map { k in Double(rng.normal()) * (scale?[k] ?? 1) + shift } }
    }

    private func trace(_ rows: [[Double]]) -> Double {
        let (_, variance) = naiveMeanAndVariance(rows)
        return variance.reduce(0, +)
    }

    private func factorial(levels: [[Double]], shift: [Double]) -> [[Double]] {
        var rows: [[Double]] = [[]]
        for (k, values) in levels.enumerated() { rows = rows.flatMap { row in values.map { row + [$0 + shift[k]] } } }
        return rows
    }

    private func naiveMeanAndVariance(_ rows: [[Double]]) -> ([Double], [Double]) {
        let n = Double(rows.count), d = rows[0].count
        let mean = (0..<d).map { k in rows.reduce(0.0) { $0 + $1[k] } / n }
        let variance = (0..<d).map { k in rows.reduce(0.0) { $0 + ($1[k] - mean[k]) * ($1[k] - mean[k]) } / (n - 1) }
        return (mean, variance)
    }
}
