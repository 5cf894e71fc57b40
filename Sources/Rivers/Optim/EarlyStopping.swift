// Early stopping as the original configured Keras' EarlyStopping callback: monitor n_loss,
// min_delta = learning_rate / 10, start_from_epoch = ceil(epochs / 2), patience = ceil(start / 4).
import Foundation

/// Keras 3 `EarlyStopping(mode="min")`, epoch by epoch: epochs before `startEpoch` (0-based) are
/// not monitored; then each epoch counts towards `patience` unless the loss beats the best so far
/// by more than `minDelta` (loss + minDelta < best), which resets the count. Training stops when
/// the count reaches `patience`.
public struct EarlyStopping: Codable, Equatable, Sendable {
    public var minDelta: Double
    public var startEpoch: Int
    public var patience: Int
    /// The best monitored loss so far, and the 0-based epoch it came from.
    public var best: Double?
    public var bestEpoch: Int?
    /// Monitored epochs since the last improvement.
    public var wait = 0

    public init(minDelta: Double, startEpoch: Int, patience: Int) {
        self.minDelta = minDelta; self.startEpoch = startEpoch; self.patience = patience
    }

    /// The original's settings for a run of `epochs` epochs at `learningRate`.
    public init(epochs: Int, learningRate: Double) {
        let start = (epochs + 1) / 2
        self.init(minDelta: learningRate / 10, startEpoch: start, patience: max((start + 3) / 4, 1))
    }

    /// Records the loss of 0-based `epoch`; true when training should stop after it.
    public mutating func update(epoch: Int, loss: Double) -> Bool {
        guard epoch >= startEpoch else { return false }
        wait += 1
        if best.map({ loss + minDelta < $0 }) ?? true {
            best = loss
            bestEpoch = epoch
            wait = 0
            return false
        }
        return wait >= patience && epoch > 0
    }
}
