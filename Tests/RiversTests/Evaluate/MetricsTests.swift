// The evaluation statistics against hand-computed numbers: confusion matrix scores, category
// decisions, t intervals, the paired bootstrap and its verdict, the shuffled-label band.
import Foundation
import XCTest
import Rivers

final class MetricsTests: XCTestCase {
    /// Scores below are ratios of small integers; 1e-12 only absorbs the rounding of a few
    /// Double divisions and sums.
    let exact = 1e-12

    func testThreeClassScoresByHand() {
        // Rows true, columns predicted:
        //   [3 1 0]   support 4, recall 3/4, precision 3/4 (column 4)
        //   [1 1 0]   support 2, recall 1/2, precision 1/4 (column 4)
        //   [0 2 4]   support 6, recall 2/3, precision 4/4 (column 4)
        // accuracy 8/12 = 2/3; balanced accuracy (3/4 + 1/2 + 2/3) / 3 = 23/36;
        // F1: 2(3/4)(3/4)/(3/2) = 3/4, 2(1/4)(1/2)/(3/4) = 1/3, 2(1)(2/3)/(5/3) = 4/5,
        // macro-F1 (3/4 + 1/3 + 4/5) / 3 = 113/180.
        let truth = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2]
        let predicted = [0, 0, 0, 1, 0, 1, 1, 1, 2, 2, 2, 2]
        let m = ConfusionMatrix(truth: truth, predicted: predicted, classes: 3)
        XCTAssertEqual(m.counts, [[3, 1, 0], [1, 1, 0], [0, 2, 4]])
        XCTAssertEqual(m.support, [4, 2, 6])
        XCTAssertEqual(m.total, 12)
        XCTAssertEqual(m.accuracy, 2.0 / 3, accuracy: exact)
        XCTAssertEqual(m.balancedAccuracy, 23.0 / 36, accuracy: exact)
        XCTAssertEqual(m.macroF1, 113.0 / 180, accuracy: exact)
        let recall = m.recall
        for (r, expected) in zip(recall, [0.75, 0.5, 2.0 / 3]) { XCTAssertEqual(r!, expected, accuracy: exact) }
    }

    func testAbsentAndNeverPredictedClasses() {
        // Four classes; class 3 has no test sample (but is predicted once), class 1 is never predicted:
        //   [2 0 0 1]   recall 2/3, precision 2/2 = 1  -> F1 2(1)(2/3)/(5/3) = 4/5
        //   [0 0 2 0]   recall 0,   precision none = 0 -> F1 0 (P + R = 0)
        //   [0 0 1 0]   recall 1,   precision 1/3      -> F1 2(1/3)/(4/3) = 1/2
        //   [0 0 0 0]   no samples: left out of balanced accuracy and macro-F1
        // accuracy 3/6; balanced accuracy (2/3 + 0 + 1) / 3 = 5/9; macro-F1 (4/5 + 0 + 1/2) / 3 = 13/30.
        let m = ConfusionMatrix(counts: [[2, 0, 0, 1], [0, 0, 2, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
        XCTAssertEqual(m.accuracy, 0.5, accuracy: exact)
        XCTAssertEqual(m.balancedAccuracy, 5.0 / 9, accuracy: exact)
        XCTAssertEqual(m.macroF1, 13.0 / 30, accuracy: exact)
        XCTAssertNil(m.recall[3])
        XCTAssertNil(m.precision[1])
        XCTAssertEqual(m.support, [3, 2, 1, 0])
        XCTAssertEqual(m.predictedCounts, [2, 0, 3, 1])
    }

    func testMergedSumsCellsOfGroups() {
        // Six labels into two categories {0, 1, 2} and {3, 4, 5}.
        let truth = [0, 1, 2, 3, 4, 5, 0, 5, 2, 3]
        let predicted = [1, 1, 4, 2, 5, 0, 0, 5, 3, 3]
        let m = ConfusionMatrix(truth: truth, predicted: predicted, classes: 6).merged([[0, 1, 2], [3, 4, 5]])
        // Pairs by category: (0,0) (0,0) (0,1) (1,0) (1,1) (1,0) (0,0) (1,1) (0,1) (1,1).
        XCTAssertEqual(m.counts, [[3, 2], [2, 3]])
        XCTAssertEqual(m.classes, 2)
    }

    func testCategoryPredictionsSumProbabilitiesBeforeTheArgmax() {
        let groups = [[0, 1, 2], [3, 4, 5]]
        let probabilities: [[Double]] = [
            [0.4, 0, 0, 0.3, 0.3, 0],  // label 0 wins, but category 1 sums 0.6 against 0.4
            [0.1, 0.1, 0.1, 0.7, 0, 0],
            [0.25, 0.25, 0, 0.25, 0.25, 0],  // a tie at 0.5: the lower category
            [0.2, 0.2, 0.2, 0.1, 0.1, 0.2],
        ]
        XCTAssertEqual(ConfusionMatrix.categoryPredictions(probabilities: probabilities, groups: groups), [1, 1, 0, 0])
        let flat = probabilities.flatMap { $0.map(Float.init) }
        XCTAssertEqual(
            ConfusionMatrix.categoryPredictions(probabilities: flat, classes: 6, groups: groups), [1, 1, 0, 0])
        // Merging the 6-label decisions instead puts the first sample in category 0.
        let labels = probabilities.map { row in row.indices.max { row[$0] < row[$1] }! }
        XCTAssertEqual(labels[0], 0)
    }

    func testStudentTQuantiles() {
        // References from scipy.stats.t.ppf(0.975, df); the bisection stops at adjacent Doubles and
        // the series is exact, so agreement to 1e-9 leaves room only for the reference's own digits.
        let reference: [(Int, Double)] = [
            (1, 12.706204736174694), (2, 4.302652729749462), (4, 2.7764451051977934), (9, 2.262157162798205),
            (30, 2.0422724563012378), (100, 1.9839715185235518), (10000, 1.960201239890626),
        ]
        for (df, t) in reference {
            XCTAssertEqual(MeanInterval.t975(degreesOfFreedom: df), t, accuracy: 1e-9, "df \(df)")
        }
    }

    func testMeanIntervalOfOneToFive() {
        // mean 3; sd = sqrt((4 + 1 + 0 + 1 + 4) / 4) = sqrt(2.5); half-width t(4) sqrt(2.5) / sqrt(5).
        let interval = MeanInterval(samples: [1, 2, 3, 4, 5])
        XCTAssertEqual(interval.mean, 3, accuracy: exact)
        XCTAssertEqual(interval.sd, 2.5.squareRoot(), accuracy: exact)
        XCTAssertEqual(interval.count, 5)
        // 2.776 is the table's value rounded to 3 decimals (2.77645): 5e-4 * sqrt(2.5) / sqrt(5) < 4e-4.
        XCTAssertEqual(interval.halfWidth, 2.776 * 2.5.squareRoot() / 5.0.squareRoot(), accuracy: 4e-4)
        XCTAssertEqual(interval.low, 3 - interval.halfWidth, accuracy: exact)
        XCTAssertEqual(interval.high, 3 + interval.halfWidth, accuracy: exact)
    }

    func testOneSampleHasNoInterval() {
        XCTAssertEqual(MeanInterval(samples: [0.7]), MeanInterval(mean: 0.7, low: 0.7, high: 0.7, sd: 0, count: 1))
    }

    func testPercentileInterpolatesBetweenOrderStatistics() {
        XCTAssertEqual(PairedComparison.percentile(sorted: [1, 2, 3, 4], 0.5), 2.5)
        let values = (0..<1000).map(Double.init)
        // Position 0.025 * 999 = 24.975 and 0.975 * 999 = 974.025.
        XCTAssertEqual(PairedComparison.percentile(sorted: values, 0.025), 24.975, accuracy: exact)
        XCTAssertEqual(PairedComparison.percentile(sorted: values, 0.975), 974.025, accuracy: exact)
    }

    func testIdenticalArmsGiveZeroIntervalsAndNoDetectableDifference() {
        let (truth, chance) = chanceSet(perClass: 40, classes: 6, seeds: 5)
        let comparison = PairedComparison(truth: truth, arm: chance, base: chance, classes: 6)
        XCTAssertEqual(comparison.seedDifferences, [0, 0, 0, 0, 0])
        XCTAssertEqual(comparison.seedInterval.low, 0)
        XCTAssertEqual(comparison.seedInterval.high, 0)
        XCTAssertEqual(comparison.bootstrapLow, 0)
        XCTAssertEqual(comparison.bootstrapHigh, 0)
        XCTAssertEqual(comparison.verdict, .noDetectableDifference)
        XCTAssertEqual(comparison.verdict.rawValue, "no detectable difference")
    }

    func testPerfectArmAgainstChanceIsBetterAndTheReverseWorse() {
        let (truth, chance) = chanceSet(perClass: 40, classes: 6, seeds: 5)
        let perfect = Array(repeating: truth, count: 5)
        let better = PairedComparison(truth: truth, arm: perfect, base: chance, classes: 6)
        XCTAssertEqual(better.verdict, .better)
        // Chance is 1/6, so each difference lies near 5/6; 0.1 covers 240 samples' sampling noise.
        XCTAssertEqual(better.seedInterval.mean, 5.0 / 6, accuracy: 0.1)
        XCTAssertGreaterThan(better.bootstrapLow, 0)
        let worse = PairedComparison(truth: truth, arm: chance, base: perfect, classes: 6)
        XCTAssertEqual(worse.verdict, .worse)
        XCTAssertLessThan(worse.bootstrapHigh, 0)
        XCTAssertLessThan(worse.seedInterval.high, 0)
    }

    func testOneSeedNeverGivesAVerdict() {
        let (truth, chance) = chanceSet(perClass: 40, classes: 6, seeds: 1)
        let comparison = PairedComparison(truth: truth, arm: [truth], base: chance, classes: 6)
        XCTAssertGreaterThan(comparison.bootstrapLow, 0)
        XCTAssertEqual(comparison.verdict, .noDetectableDifference)
    }

    func testBootstrapIsDeterministicAndMatchesANaiveResampling() {
        // Two similar arms, so the interval straddles 0 and its ends are informative.
        let classes = 3, seeds = 4
        let (truth, base) = chanceSet(perClass: 20, classes: classes, seeds: seeds)
        var rng = SeededGenerator(seed: 9)
        let arm = base.map { row in row.enumerated().map { i, p in rng.uniform() < 0.3 ? truth[i] : p } }
        let first = PairedComparison(truth: truth, arm: arm, base: base, classes: classes, resamples: 200, seed: 3)
        let second = PairedComparison(truth: truth, arm: arm, base: base, classes: classes, resamples: 200, seed: 3)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(
            PairedComparison.resampleIndices(count: truth.count, resamples: 2, seed: 3),
            PairedComparison.resampleIndices(count: truth.count, resamples: 2, seed: 4))

        // The same resamples, each scored by building confusion matrices seed by seed.
        var values: [Double] = []
        for indices in PairedComparison.resampleIndices(count: truth.count, resamples: 200, seed: 3) {
            let t = indices.map { truth[$0] }
            var sum = 0.0
            for s in 0..<seeds {
                sum +=
                    ConfusionMatrix(truth: t, predicted: indices.map { arm[s][$0] }, classes: classes).balancedAccuracy
                sum -=
                    ConfusionMatrix(truth: t, predicted: indices.map { base[s][$0] }, classes: classes).balancedAccuracy
            }
            values.append(sum / Double(seeds))
        }
        let mean = values.reduce(0, +) / Double(values.count)
        values.sort()
        // The library sums integer hit counts and divides once; the naive way sums rounded
        // recalls: they differ by a few units in the last place of numbers below 1.
        XCTAssertEqual(first.bootstrapLow, PairedComparison.percentile(sorted: values, 0.025), accuracy: exact)
        XCTAssertEqual(first.bootstrapHigh, PairedComparison.percentile(sorted: values, 0.975), accuracy: exact)
        XCTAssertEqual(first.bootstrapMean, mean, accuracy: exact)
        XCTAssertLessThan(first.bootstrapLow, first.bootstrapHigh)
    }

    func testBootstrapOfAFullEvaluationIsFast() {
        // 1000 resamples x 5 seeds x 2 arms x 240 samples; a few milliseconds expected, and the
        // brief's bound is one second (generous for a shared 2-core machine).
        let (truth, base) = chanceSet(perClass: 40, classes: 6, seeds: 5)
        let (_, arm) = chanceSet(perClass: 40, classes: 6, seeds: 5, seed: 2)
        let start = Date()
        let comparison = PairedComparison(truth: truth, arm: arm, base: base, classes: 6)
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(comparison.resamples, 1000)
    }

    func testChanceBand() {
        // 1/6 +- (1/6) sqrt(6 / 10).
        let band = ConfusionMatrix.chanceBand(classes: 6, testCounts: [10, 10, 10, 10, 10, 10])
        XCTAssertEqual(band.lowerBound, 1.0 / 6 - 0.6.squareRoot() / 6, accuracy: exact)
        XCTAssertEqual(band.upperBound, 1.0 / 6 + 0.6.squareRoot() / 6, accuracy: exact)
        // A class without test photos adds nothing: 1/6 +- (1/6) sqrt(5 / 10).
        let partial = ConfusionMatrix.chanceBand(classes: 6, testCounts: [10, 10, 10, 10, 10, 0])
        XCTAssertEqual(partial.upperBound, 1.0 / 6 + 0.5.squareRoot() / 6, accuracy: exact)
        // 1/2 +- (1/2) sqrt(2): clipped to [0, 1].
        XCTAssertEqual(ConfusionMatrix.chanceBand(classes: 2, testCounts: [1, 1]), 0...1)
    }

    /// `perClass` samples of each class, and per seed predictions drawn uniformly over the classes.
    private func chanceSet(perClass: Int, classes: Int, seeds: Int, seed: UInt64 = 1) -> ([Int], [[Int]]) {
        let truth = (0..<(perClass * classes)).map { $0 % classes }
        var rng = SeededGenerator(seed: seed)
        let predictions = (0..<seeds).map { _ in truth.map { _ in Int(rng.next() % UInt64(classes)) } }
        return (truth, predictions)
    }
}
