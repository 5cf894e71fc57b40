// Distances between two sets of feature vectors (EVALUATE.md section 4): the Frechet distance of
// their Gaussian fits, the kernel inception distance, and the symmetric eigensolver they rest on.
import Foundation

/// The Frechet distance (Heusel et al. 2017) and KID (Binkowski et al. 2018) between two sets of
/// feature vectors, in Double. A set is either rows of equal length or flat row-major values with
/// their dimension. Both need at least two vectors on each side and return nil otherwise (no
/// covariance, no unbiased kernel mean).
public enum Frechet {
    /// |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) with unbiased (n - 1) covariances. The trace
    /// of the root is the sum of the square roots of the eigenvalues (clamped at 0) of the symmetric
    /// S_b^(1/2) S_a S_b^(1/2), S_b^(1/2) from S_b's eigendecomposition. Round-off can leave the
    /// result slightly below 0 (about 1e-8 of Tr(S_a + S_b) when a covariance is singular, as with
    /// fewer vectors than dimensions); it is not clamped, so that its size stays visible.
    public static func distance(_ a: [[Double]], _ b: [[Double]]) -> Double? {
        guard let (fa, d) = flatten(a), let (fb, db) = flatten(b) else { return nil }
        precondition(d == db, "both sets need the same dimension")
        return distance(fa, fb, dimension: d)
    }

    /// `distance` for flat row-major features of `dimension` values each.
    public static func distance(_ a: [Float], _ b: [Float], dimension: Int) -> Double? {
        distance(a.map(Double.init), b.map(Double.init), dimension: dimension)
    }

    /// `distance` for flat row-major features of `dimension` values each.
    public static func distance(_ a: [Double], _ b: [Double], dimension d: Int) -> Double? {
        precondition(d > 0 && a.count % d == 0 && b.count % d == 0, "features must be whole rows")
        guard a.count / d >= 2, b.count / d >= 2 else { return nil }
        let (muA, covA) = meanAndCovariance(a, dimension: d)
        let (muB, covB) = meanAndCovariance(b, dimension: d)
        var meanTerm = 0.0, traces = 0.0
        for k in 0..<d {
            meanTerm += (muA[k] - muB[k]) * (muA[k] - muB[k])
            traces += covA[k * d + k] + covB[k * d + k]
        }
        let rootB = SymmetricEigen(covB, dimension: d).squareRoot()
        // Symmetric but for round-off, which the eigensolver averages away.
        let middle = multiply(multiply(rootB, covA, d), rootB, d)
        let traceRoot = SymmetricEigen(middle, dimension: d).values.reduce(0.0) { $0 + max($1, 0).squareRoot() }
        return meanTerm + traces - 2 * traceRoot
    }

    /// The kernel inception distance: the unbiased estimate of MMD^2 with the cubic polynomial
    /// kernel k(x, y) = (x . y / d + 1)^3, over all vectors of both sets (no subsets):
    /// mean over i != j of k(a_i, a_j) + the same for b - 2 mean over i, j of k(a_i, b_j).
    /// Unbiased, so it can be slightly negative when the sets come from one distribution.
    public static func kernelInceptionDistance(_ a: [[Double]], _ b: [[Double]]) -> Double? {
        guard let (fa, d) = flatten(a), let (fb, db) = flatten(b) else { return nil }
        precondition(d == db, "both sets need the same dimension")
        return kernelInceptionDistance(fa, fb, dimension: d)
    }

    /// `kernelInceptionDistance` for flat row-major features of `dimension` values each.
    public static func kernelInceptionDistance(_ a: [Float], _ b: [Float], dimension: Int) -> Double? {
        kernelInceptionDistance(a.map(Double.init), b.map(Double.init), dimension: dimension)
    }

    /// `kernelInceptionDistance` for flat row-major features of `dimension` values each.
    public static func kernelInceptionDistance(_ a: [Double], _ b: [Double], dimension d: Int) -> Double? {
        precondition(d > 0 && a.count % d == 0 && b.count % d == 0, "features must be whole rows")
        let m = a.count / d, n = b.count / d
        guard m >= 2, n >= 2 else { return nil }
        let scale = 1 / Double(d)
        func kernel(_ x: UnsafeBufferPointer<Double>, _ i: Int, _ y: UnsafeBufferPointer<Double>, _ j: Int) -> Double {
            var dot = 0.0
            for k in 0..<d { dot += x[i * d + k] * y[j * d + k] }
            let base = dot * scale + 1
            return base * base * base
        }
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                var xx = 0.0, yy = 0.0, xy = 0.0
                for i in 0..<m { for j in 0..<i { xx += kernel(x, i, x, j) } }
                for i in 0..<n { for j in 0..<i { yy += kernel(y, i, y, j) } }
                for i in 0..<m { for j in 0..<n { xy += kernel(x, i, y, j) } }
                // Each unordered pair counted once: the sum over i != j is twice that.
                return 2 * xx / Double(m * (m - 1)) + 2 * yy / Double(n * (n - 1)) - 2 * xy / Double(m * n)
            }
        }
    }

    /// The mean and the unbiased (n - 1) covariance (d x d, row-major) of n >= 2 rows of `dimension` values.
    public static func meanAndCovariance(_ x: [Double], dimension d: Int) -> (mean: [Double], covariance: [Double]) {
        let n = x.count / d
        precondition(n >= 2 && x.count == n * d, "a covariance needs at least two whole rows")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for k in 0..<d { mean[k] += x[i * d + k] } }
        for k in 0..<d { mean[k] /= Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        var row = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for k in 0..<d { row[k] = x[i * d + k] - mean[k] }
            for p in 0..<d {
                let rp = row[p]
                for q in 0...p { cov[p * d + q] += rp * row[q] }
            }
        }
        for p in 0..<d {
            for q in 0...p {
                let v = cov[p * d + q] / Double(n - 1)
                cov[p * d + q] = v; cov[q * d + p] = v
            }
        }
        return (mean, cov)
    }

    /// Rows of one length as a flat array and that length; nil for fewer than two rows.
    private static func flatten(_ rows: [[Double]]) -> ([Double], Int)? {
        guard rows.count >= 2 else { return nil }
        let d = rows[0].count
        precondition(d > 0 && rows.allSatisfy { $0.count == d }, "rows of one non-zero length")
        return (rows.flatMap { $0 }, d)
    }

    /// The product of two d x d row-major matrices.
    private static func multiply(_ x: [Double], _ y: [Double], _ d: Int) -> [Double] {
        var out = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for k in 0..<d {
                let xik = x[i * d + k]
                if xik == 0 { continue }
                for j in 0..<d { out[i * d + j] += xik * y[k * d + j] }
            }
        }
        return out
    }
}

/// The eigendecomposition A = V diag(values) V^T of a symmetric matrix by the cyclic Jacobi method:
/// sweeps of plane rotations over every off-diagonal pair until the off-diagonal Frobenius norm is
/// below 1e-12 of the whole matrix's (or 100 sweeps). Meant for the feature sizes of evaluation
/// (up to a few hundred); cost about n^3 per sweep, usually under 10 sweeps.
public struct SymmetricEigen: Sendable {
    public let dimension: Int
    /// Eigenvalues, ascending.
    public let values: [Double]
    /// Eigenvectors as the columns of an n x n row-major matrix: vectors[i * n + j] is component i
    /// of the eigenvector of values[j]. They are orthonormal.
    public let vectors: [Double]
    /// Sweeps taken.
    public let sweeps: Int

    /// Decomposes the symmetric n x n row-major `matrix`; a matrix that is symmetric only up to
    /// round-off is taken as its symmetric part (M + M^T) / 2.
    public init(_ matrix: [Double], dimension n: Int) {
        precondition(n > 0 && matrix.count == n * n, "an n x n matrix")
        var a = matrix
        for i in 0..<n {
            for j in 0..<i {
                let m = (matrix[i * n + j] + matrix[j * n + i]) / 2
                a[i * n + j] = m; a[j * n + i] = m
            }
        }
        var v = [Double](repeating: 0, count: n * n)  // V^T: row j is the vector of diagonal entry j
        for i in 0..<n { v[i * n + i] = 1 }
        let norm = a.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
        var sweep = 0
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                while sweep < 100 {
                    var off = 0.0
                    for p in 0..<n { for q in 0..<n where q != p { off += a[p * n + q] * a[p * n + q] } }
                    if off.squareRoot() <= 1e-12 * norm { break }
                    sweep += 1
                    for p in 0..<(n - 1) {
                        for q in (p + 1)..<n { Self.rotate(a, v, n, p, q) }
                    }
                }
            }
        }
        sweeps = sweep
        dimension = n
        let order = (0..<n).sorted { a[$0 * n + $0] < a[$1 * n + $1] }
        values = order.map { a[$0 * n + $0] }
        var sorted = [Double](repeating: 0, count: n * n)
        for (j, source) in order.enumerated() {
            for i in 0..<n { sorted[i * n + j] = v[source * n + i] }
        }
        vectors = sorted
    }

    /// V diag(f(values)) V^T, n x n row-major.
    public func reconstructed(_ f: (Double) -> Double = { $0 }) -> [Double] {
        let n = dimension
        let scaled = values.map(f)
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = 0.0
                for k in 0..<n { s += vectors[i * n + k] * scaled[k] * vectors[j * n + k] }
                out[i * n + j] = s; out[j * n + i] = s
            }
        }
        return out
    }

    /// The symmetric square root V diag(sqrt(max(values, 0))) V^T: negative eigenvalues, which a
    /// positive semi-definite matrix has only through round-off, count as 0.
    public func squareRoot() -> [Double] { reconstructed { max($0, 0).squareRoot() } }

    /// One Jacobi rotation zeroing a[p][q]: A <- P^T A P and V <- V P (on V's transpose `vt`), P the
    /// rotation whose tangent t is the smaller root of t^2 + 2 theta t - 1 = 0, theta = (a_qq - a_pp) / (2 a_pq).
    private static func rotate(
        _ a: UnsafeMutableBufferPointer<Double>, _ vt: UnsafeMutableBufferPointer<Double>, _ n: Int, _ p: Int, _ q: Int
    ) {
        let apq = a[p * n + q]
        if apq == 0 { return }
        let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
        // For a huge theta, theta^2 overflows; t = 1 / (2 theta) to working precision.
        let t =
            abs(theta) > 1e150
            ? 1 / (2 * theta) : (theta < 0 ? -1 : 1) / (abs(theta) + (theta * theta + 1).squareRoot())
        let c = 1 / (t * t + 1).squareRoot(), s = t * c
        // Rows p and q are contiguous; by symmetry columns p and q take the same values.
        for k in 0..<n where k != p && k != q {
            let akp = a[p * n + k], akq = a[q * n + k]
            let newP = c * akp - s * akq, newQ = s * akp + c * akq
            a[p * n + k] = newP; a[k * n + p] = newP
            a[q * n + k] = newQ; a[k * n + q] = newQ
        }
        // The diagonal in the rounding-friendly form a_pp - t a_pq, a_qq + t a_pq (Numerical Recipes).
        a[p * n + p] -= t * apq
        a[q * n + q] += t * apq
        a[p * n + q] = 0
        a[q * n + p] = 0
        // V is kept transposed (row j is the vector of diagonal entry j), so this too runs along rows.
        for k in 0..<n {
            let vpk = vt[p * n + k], vqk = vt[q * n + k]
            vt[p * n + k] = c * vpk - s * vqk
            vt[q * n + k] = s * vpk + c * vqk
        }
    }
}
