// The statistics of `rivers evaluate` (EVALUATE.md sections 3 and 5): the confusion matrix and its
// scores, intervals over seeds, the paired seed-and-bootstrap verdict and the shuffled-label band.
import Foundation

/// Counts of (true class, predicted class) pairs for `classes` classes: rows are the true class,
/// columns the predicted one, both 0-based.
///
/// Scores that average over classes (balanced accuracy, macro-F1) average over the classes with at
/// least one sample only: a class absent from the test set has no recall, and counting it as 0
/// or 1 would move the score by something the classifier did not do. With no samples at all,
/// `accuracy`, `balancedAccuracy` and `macroF1` are NaN.
public struct ConfusionMatrix: Codable, Equatable, Sendable {
    public let classes: Int
    /// counts[t][p]: samples of true class t predicted as p.
    public private(set) var counts: [[Int]]

    /// An empty matrix.
    public init(classes: Int) {
        precondition(classes > 0, "a confusion matrix needs at least one class")
        self.classes = classes
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    /// A matrix from given counts (rows true, columns predicted); the rows must be square.
    public init(counts: [[Int]]) {
        precondition(!counts.isEmpty && counts.allSatisfy { $0.count == counts.count }, "counts must be square")
        precondition(counts.allSatisfy { $0.allSatisfy { $0 >= 0 } }, "counts cannot be negative")
        classes = counts.count
        self.counts = counts
    }

    /// The matrix of paired labels: `truth[i]` and `predicted[i]` belong to sample i, each in 0..<classes.
    public init(truth: [Int], predicted: [Int], classes: Int) {
        precondition(truth.count == predicted.count, "one prediction per true label")
        self.init(classes: classes)
        for (t, p) in zip(truth, predicted) {
            precondition(0 <= t && t < classes && 0 <= p && p < classes, "label out of 0..<\(classes)")
            counts[t][p] += 1
        }
    }

    /// The count of samples of true class `truth` predicted as `predicted`.
    public subscript(truth: Int, predicted: Int) -> Int { counts[truth][predicted] }

    /// All samples.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

    /// Samples per true class (the row sums).
    public var support: [Int] { counts.map { $0.reduce(0, +) } }

    /// Predictions per class (the column sums).
    public var predictedCounts: [Int] { (0..<classes).map { p in counts.reduce(0) { $0 + $1[p] } } }

    /// Correct predictions over all samples.
    public var accuracy: Double {
        let correct = (0..<classes).reduce(0) { $0 + counts[$1][$1] }
        return Double(correct) / Double(total)
    }

    /// Per class, correct over samples of the class; nil for a class with no samples.
    public var recall: [Double?] {
        zip(counts.indices, support).map { c, n in n == 0 ? nil : Double(counts[c][c]) / Double(n) }
    }

    /// Per class, correct over predictions of the class; nil for a class never predicted.
    public var precision: [Double?] {
        zip(counts.indices, predictedCounts).map { c, n in n == 0 ? nil : Double(counts[c][c]) / Double(n) }
    }

    /// The mean recall over the classes with at least one sample (those with none are left out).
    public var balancedAccuracy: Double {
        let present = recall.compactMap { $0 }
        return present.reduce(0, +) / Double(present.count)
    }

    /// The mean F1 = 2 P R / (P + R) over the classes with at least one sample; a class's F1 is 0
    /// when P + R = 0, and its precision P counts as 0 when nothing was predicted as it.
    public var macroF1: Double {
        let r = recall, p = precision
        var sum = 0.0, n = 0
        for c in 0..<classes {
            guard let rc = r[c] else { continue }
            let pc = p[c] ?? 0
            sum += pc + rc == 0 ? 0 : 2 * pc * rc / (pc + rc)
            n += 1
        }
        return sum / Double(n)
    }

    /// The matrix of coarser classes: group g holds the classes `groups[g]`, and cell (g, h) sums
    /// the cells whose true class is in g and predicted class in h. The groups must partition
    /// 0..<classes. This merges decisions already taken; a classifier's category decision made by
    /// summing probabilities first (`categoryPredictions`) can differ.
    public func merged(_ groups: [[Int]]) -> ConfusionMatrix {
        let groupOf = Self.groupIndex(groups, classes: classes)
        var out = ConfusionMatrix(classes: groups.count)
        for t in 0..<classes {
            for p in 0..<classes { out.counts[groupOf[t]][groupOf[p]] += counts[t][p] }
        }
        return out
    }

    /// The category of each sample: its class probabilities summed per group (`groups` partitions
    /// the classes), then the group with the largest sum, the lower index on a tie.
    public static func categoryPredictions(probabilities: [[Double]], groups: [[Int]]) -> [Int] {
        guard let classes = probabilities.first?.count else { return [] }
        precondition(probabilities.allSatisfy { $0.count == classes }, "one probability per class for every sample")
        _ = groupIndex(groups, classes: classes)
        return probabilities.map { row in argmaxOfGroupSums(groups) { row[$0] } }
    }

    /// `categoryPredictions` for probabilities stored flat, N rows of `classes` values.
    public static func categoryPredictions(probabilities: [Float], classes: Int, groups: [[Int]]) -> [Int] {
        precondition(classes > 0 && probabilities.count % classes == 0, "N x classes probabilities")
        _ = groupIndex(groups, classes: classes)
        return (0..<(probabilities.count / classes)).map { i in
            argmaxOfGroupSums(groups) { Double(probabilities[i * classes + $0]) }
        }
    }

    /// The range a label-shuffled control's balanced accuracy must fall in (EVALUATE.md section 5):
    /// 1/C +- (1/C) sqrt(sum of 1/n_c over the classes with n_c > 0 test samples), two standard
    /// deviations of the mean of C recalls at the worst-case variance 1/(4 n_c) each; clipped to [0, 1].
    public static func chanceBand(classes: Int, testCounts: [Int]) -> ClosedRange<Double> {
        precondition(classes > 0, "at least one class")
        let c = Double(classes)
        let spread = testCounts.filter { $0 > 0 }.reduce(0.0) { $0 + 1 / Double($1) }.squareRoot() / c
        return max(0, 1 / c - spread)...min(1, 1 / c + spread)
    }

    /// For each class, the index of the group holding it; traps unless the groups partition 0..<classes.
    private static func groupIndex(_ groups: [[Int]], classes: Int) -> [Int] {
        var groupOf = [Int](repeating: -1, count: classes)
        for (g, members) in groups.enumerated() {
            for c in members {
                precondition(0 <= c && c < classes && groupOf[c] < 0, "groups must partition 0..<\(classes)")
                groupOf[c] = g
            }
        }
        precondition(!groupOf.contains(-1), "groups must partition 0..<\(classes)")
        return groupOf
    }

    private static func argmaxOfGroupSums(_ groups: [[Int]], _ value: (Int) -> Double) -> Int {
        var best = 0, bestSum = -Double.infinity
        for (g, members) in groups.enumerated() {
            let sum = members.reduce(0.0) { $0 + value($1) }
            if sum > bestSum { best = g; bestSum = sum }
        }
        return best
    }
}

/// A sample mean with its 95 % Student-t interval: mean +- t(0.975, n-1) sd / sqrt(n), sd the
/// sample standard deviation (n - 1). One sample gives no interval: low = high = mean, sd = 0.
public struct MeanInterval: Codable, Equatable, Sendable {
    public var mean: Double
    public var low: Double
    public var high: Double
    public var sd: Double
    public var count: Int

    public init(mean: Double, low: Double, high: Double, sd: Double, count: Int) {
        self.mean = mean; self.low = low; self.high = high; self.sd = sd; self.count = count
    }

    /// The interval of the mean of `samples` (at least one).
    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "an interval needs at least one sample")
        let n = samples.count
        let mean = samples.reduce(0, +) / Double(n)
        guard n > 1 else {
            self.init(mean: mean, low: mean, high: mean, sd: 0, count: 1)
            return
        }
        let sd = (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
        let half = Self.t975(degreesOfFreedom: n - 1) * sd / Double(n).squareRoot()
        self.init(mean: mean, low: mean - half, high: mean + half, sd: sd, count: n)
    }

    /// Half the interval's width.
    public var halfWidth: Double { (high - low) / 2 }

    /// The 0.975 quantile of Student's t with `degreesOfFreedom` (>= 1): 12.706 for 1, 2.776 for 4,
    /// 2.262 for 9, towards 1.960. Found by bisection on the exact finite-series distribution
    /// function for integer degrees of freedom (Abramowitz & Stegun 26.7.3-4), to about 1e-12.
    /// The cost grows with the degrees of freedom (a sum of df/2 terms per step).
    public static func t975(degreesOfFreedom df: Int) -> Double {
        precondition(df >= 1, "at least one degree of freedom")
        var lo = 0.0, hi = 1.0
        while centralProbability(hi, df) < 0.95 { lo = hi; hi *= 2 }
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if mid <= lo || mid >= hi { break }
            if centralProbability(mid, df) < 0.95 { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// P(|T| < t) for Student's t with integer `df` degrees of freedom (A&S 26.7.3 and 26.7.4).
    static func centralProbability(_ t: Double, _ df: Int) -> Double {
        let theta = atan(t / Double(df).squareRoot())
        let s = sin(theta), c = cos(theta), c2 = c * c
        if df % 2 == 1 {
            // (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ... up to cos^(df-3)))
            guard df > 1 else { return 2 * theta / Double.pi }
            var term = 1.0, sum = 1.0
            for j in stride(from: 1, through: (df - 3) / 2, by: 1) {
                term *= c2 * Double(2 * j) / Double(2 * j + 1)
                sum += term
            }
            return 2 / Double.pi * (theta + s * c * sum)
        } else {
            // sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... up to cos^(df-2))
            var term = 1.0, sum = 1.0
            for j in stride(from: 1, through: (df - 2) / 2, by: 1) {
                term *= c2 * Double(2 * j - 1) / Double(2 * j)
                sum += term
            }
            return s * sum
        }
    }
}

/// The outcome of comparing an arm with the base arm: "never 'no effect'" (EVALUATE.md section 3).
public enum Verdict: String, Codable, Sendable {
    case better
    case worse
    case noDetectableDifference = "no detectable difference"
}

/// An arm against the base arm on balanced accuracy, paired by seed and by test sample.
///
/// Two intervals must agree for a verdict: the t interval of the per-seed differences
/// d_s = BA(arm, s) - BA(base, s) (training noise), and a paired bootstrap over test samples (the
/// finite test set): each of `resamples` draws n test indices with replacement, computes d_s on
/// the drawn samples for every seed and averages over seeds; the interval is the 2.5 and 97.5
/// percentiles. The draws come from `SeededGenerator(seed:, stream: ["bootstrap"])` and depend only
/// on the seed and n, so every arm compared against the same base with the same seed sees the
/// same resamples. Better when both intervals lie strictly above 0, worse when both lie strictly
/// below, otherwise no detectable difference; with a single seed there is no seed interval, so
/// the verdict is always no detectable difference.
public struct PairedComparison: Codable, Equatable, Sendable {
    enum CodingKeys: String, CodingKey {
        case seedDifferences = "seed_differences", seedInterval = "seed_interval", bootstrapMean = "bootstrap_mean",
            bootstrapLow = "bootstrap_low", bootstrapHigh = "bootstrap_high", resamples, verdict
    }

    /// d_s per seed, in the seeds' order.
    public var seedDifferences: [Double]
    /// The t interval of the mean of `seedDifferences`.
    public var seedInterval: MeanInterval
    /// The mean over resamples of the seed-averaged difference.
    public var bootstrapMean: Double
    /// The 2.5 and 97.5 percentiles of the seed-averaged difference over the resamples.
    public var bootstrapLow: Double
    public var bootstrapHigh: Double
    public var resamples: Int
    public var verdict: Verdict

    /// Compares `arm` with `base`: `arm[s]` and `base[s]` are seed s's predictions for the test
    /// samples whose true classes are `truth`, all in 0..<classes.
    public init(
        truth: [Int], arm: [[Int]], base: [[Int]], classes: Int, resamples: Int = 1000, seed: UInt64 = 0
    ) {
        precondition(!arm.isEmpty && arm.count == base.count, "the same seeds for arm and base")
        precondition(!truth.isEmpty && resamples > 0, "test samples and resamples needed")
        let n = truth.count
        precondition(arm.allSatisfy { $0.count == n } && base.allSatisfy { $0.count == n }, "one prediction per sample")
        seedDifferences = zip(arm, base).map { a, b in
            ConfusionMatrix(truth: truth, predicted: a, classes: classes).balancedAccuracy
                - ConfusionMatrix(truth: truth, predicted: b, classes: classes).balancedAccuracy
        }
        seedInterval = MeanInterval(samples: seedDifferences)

        // Balanced accuracy is linear in the per-sample hits, so the seed average of BA(arm) - BA(base)
        // on a resample is (1 / (S C')) sum over present classes c of (sum over drawn i of class c of
        // delta_i) / (draws of class c), with delta_i = sum over seeds of (arm hit - base hit), an
        // integer: one pass over the n draws per resample, counted exactly in integers.
        var delta = [Int](repeating: 0, count: n)
        for (a, b) in zip(arm, base) {
            for i in 0..<n { delta[i] += (a[i] == truth[i] ? 1 : 0) - (b[i] == truth[i] ? 1 : 0) }
        }
        let seeds = Double(arm.count)
        var generator = SeededGenerator(seed: seed, stream: ["bootstrap"])
        var draws = [Int](repeating: 0, count: classes), hits = [Int](repeating: 0, count: classes)
        var values = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            for c in 0..<classes { draws[c] = 0; hits[c] = 0 }
            for _ in 0..<n {
                let i = Self.index(below: n, &generator)
                draws[truth[i]] += 1
                hits[truth[i]] += delta[i]
            }
            var sum = 0.0, present = 0
            for c in 0..<classes where draws[c] > 0 {
                sum += Double(hits[c]) / Double(draws[c])
                present += 1
            }
            values[r] = sum / (Double(present) * seeds)
        }
        bootstrapMean = values.reduce(0, +) / Double(resamples)
        values.sort()
        bootstrapLow = Self.percentile(sorted: values, 0.025)
        bootstrapHigh = Self.percentile(sorted: values, 0.975)
        self.resamples = resamples

        if seedInterval.count > 1 && seedInterval.low > 0 && bootstrapLow > 0 {
            verdict = .better
        } else if seedInterval.count > 1 && seedInterval.high < 0 && bootstrapHigh < 0 {
            verdict = .worse
        } else {
            verdict = .noDetectableDifference
        }
    }

    /// The resamples' index lists as `init` draws them (for checks and reports; `init` does not
    /// store them): `resamples` lists of n indices in 0..<n.
    public static func resampleIndices(count n: Int, resamples: Int = 1000, seed: UInt64 = 0) -> [[Int]] {
        var generator = SeededGenerator(seed: seed, stream: ["bootstrap"])
        return (0..<resamples).map { _ in (0..<n).map { _ in index(below: n, &generator) } }
    }

    /// The p-quantile of ascending `sorted` values with linear interpolation between order statistics
    /// (position p (count - 1), as numpy's default).
    public static func percentile(sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty && 0 <= p && p <= 1, "a percentile of no values")
        let position = p * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + fraction * (sorted[above] - sorted[below])
    }

    /// A uniform index in 0..<n from the high word of a 64 x 64-bit product (Lemire's map without
    /// rejection: bias below n / 2^64), fixed here so that the draws do not depend on the standard
    /// library's `random(in:)`.
    private static func index(below n: Int, _ generator: inout SeededGenerator) -> Int {
        Int(generator.next().multipliedFullWidth(by: UInt64(n)).high)
    }
}
