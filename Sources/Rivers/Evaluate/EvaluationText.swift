// The words and numbers of an evaluation as the terminal and the report show them.
import Foundation

/// A fraction as a percentage with one decimal.
public func percent(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }

/// A difference of fractions as signed percentage points with one decimal.
public func points(_ v: Double) -> String { String(format: "%+.1f", 100 * v) }

/// mean ± the 95% half-width, in percent (the mean alone for one seed).
public func percentText(_ m: MeanInterval) -> String {
    m.count > 1
        ? String(format: "%.1f ± %.1f", 100 * m.mean, 100 * m.halfWidth) : String(format: "%.1f", 100 * m.mean)
}

extension PairedComparison {
    /// "+2.1 points, 95% over seeds [+0.4, +3.8], bootstrap over test photos [-0.5, +4.6]".
    public var summary: String {
        "\(points(seedInterval.mean)) points, 95% over seeds [\(points(seedInterval.low)), \(points(seedInterval.high))], bootstrap over test photos [\(points(bootstrapLow)), \(points(bootstrapHigh))]"
    }
}

extension EvaluationResult {
    /// One sentence per compared training set, as measured.
    public var verdict: String { verdictSentences.joined(separator: " ") }

    /// The verdict, one sentence per compared training set.
    public var verdictSentences: [String] {
        guard arms.count > 1 else { return ["one training set only: nothing to compare."] }
        let reference = arms[0].name
        return arms.dropFirst().compactMap { a -> String? in
            guard let c = a.versusReference else { return nil }
            let d = "\(points(c.seedInterval.mean)) points of balanced accuracy on 6 labels"
            switch c.verdict {
            case .better: return "'\(a.name)' is better than '\(reference)' (\(d))."
            case .worse: return "'\(a.name)' is worse than '\(reference)' (\(d))."
            case .noDetectableDifference:
                return "'\(a.name)' shows no detectable difference from '\(reference)' (\(d); an interval includes 0)."
            }
        }
    }

    /// The confusion matrix of an arm's 6-label task summed over its runs.
    public func summedConfusion(_ arm: ArmResult) -> [[Int]] {
        var total = [[Int]](repeating: [Int](repeating: 0, count: 6), count: 6)
        for run in arm.runs {
            for i in 0..<6 { for j in 0..<6 { total[i][j] += run.labels.confusion[i][j] } }
        }
        return total
    }
}
