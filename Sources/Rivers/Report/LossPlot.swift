// loss.svg and the report's loss chart: one panel per loss (n_loss with val_n_loss, i_loss with
// val_i_loss), each on its own logarithmic y axis, the raw values per epoch drawn faint and an
// exponential moving average drawn bold over them. One code path for both: training writes
// `svg(rows)`, the report lays out `panels(rows)` (the same pictures) side by side or stacked.
//
// Why a log axis: the losses fall by an order of magnitude in the first epochs and then improve
// by percents, and i_loss has single-epoch spikes ten times its level; on a linear axis either
// the start or a spike sets the scale and the rest is a flat line at the bottom. On a log axis
// equal ratios are equal heights, so a 10% improvement at epoch 300 is as visible as one at
// epoch 3, and a spike is one tall tooth that leaves the rest of the curve readable. The moving
// average is taken of the logarithm (a geometric mean), so one spike bends it little.
import Foundation

public enum LossPlot {
    /// One series of a panel: (epoch, value) pairs, epochs increasing, values finite and >= 0.
    public struct Series: Sendable {
        public let name: String
        public let color: String
        public let dashed: Bool
        public let points: [(epoch: Int, value: Double)]
        /// The exponential moving average of log(value), back on the loss scale; empty when the
        /// series is too short to smooth.
        public let smoothed: [(epoch: Int, value: Double)]
    }

    /// One loss's panel: its training series and (when logged) its validation series.
    public struct Panel: Sendable {
        public let title: String
        public let loss: String
        public let series: [Series]
        /// The y axis's range (values, not logarithms), covering this panel's series only.
        public let yRange: ClosedRange<Double>
        public let epochs: ClosedRange<Int>
    }

    /// Panel size in SVG units: two fit side by side in the report at 1400 px.
    public static let panelWidth = 560.0, panelHeight = 320.0
    static let (left, right, top, bottom) = (66.0, 16.0, 58.0, 44.0)
    /// Series with fewer points are drawn without a moving average.
    static let minSmoothed = 10

    /// The two panels of `rows`. Any rows will do: they are drawn in epoch order, rows whose epoch
    /// is outside 1 ... `RunDirectory.maxLoggedEpoch` and values that are not finite or negative
    /// are left out (`readLogContents` reports such rows).
    public static func panels(_ rows: [EpochLog]) -> [Panel] {
        // Within the bound, sums and differences of epochs cannot overflow.
        let rows = rows.filter { (1...RunDirectory.maxLoggedEpoch).contains($0.epoch) }.sorted { $0.epoch < $1.epoch }
        let first = rows.first?.epoch ?? 1, last = max(rows.last?.epoch ?? 1, first + 1)
        let specs: [(String, String, (EpochLog) -> Double, (EpochLog) -> Double?)] = [
            ("n_loss", "noise prediction error (the training loss)", { $0.nLoss }, { $0.validation?.nLoss }),
            ("i_loss", "image reconstruction error", { $0.iLoss }, { $0.validation?.iLoss }),
        ]
        return specs.map { loss, what, train, validation in
            func points(_ value: (EpochLog) -> Double?) -> [(epoch: Int, value: Double)] {
                rows.compactMap { r in value(r).flatMap { $0.isFinite && $0 >= 0 ? (r.epoch, $0) : nil } }
            }
            let series = [
                (loss, "#1f5fa8", false, points(train)), ("val_" + loss, "#e0701b", true, points(validation)),
            ].filter { !$0.3.isEmpty }.map {
                Series(name: $0.0, color: $0.1, dashed: $0.2, points: $0.3, smoothed: smooth($0.3))
            }
            return Panel(
                title: "\(loss): \(what)", loss: loss, series: series,
                yRange: yRange(series.flatMap { $0.points.map(\.value) }), epochs: first...last)
        }
    }

    /// loss.svg: the two panels side by side in one picture.
    public static func svg(_ rows: [EpochLog]) -> String {
        let gap = 12.0, width = 2 * panelWidth + gap
        var out = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(panelHeight))" viewBox="0 0 \##(Int(width)) \##(Int(panelHeight))" font-family="sans-serif" font-size="13">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
        ]
        for (k, panel) in panels(rows).enumerated() {
            out.append(svg(panel, x: Double(k) * (panelWidth + gap)))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// One panel as an `<svg>` of its own: standalone (`x` nil, for the report's page) or nested
    /// at `x` in a larger picture.
    public static func svg(_ panel: Panel, x: Double? = nil) -> String {
        let (W, H) = (panelWidth, panelHeight)
        let plotW = W - left - right, plotH = H - top - bottom
        let (lo, hi) = (log10(panel.yRange.lowerBound), log10(panel.yRange.upperBound))
        let (e0, e1) = (panel.epochs.lowerBound, panel.epochs.upperBound)
        func px(_ e: Int) -> Double { left + plotW * Double(e - e0) / Double(e1 - e0) }
        func py(_ v: Double) -> Double {
            let l = v > 0 ? log10(v) : lo
            return top + plotH * (1 - min(max((l - lo) / (hi - lo), 0), 1))
        }
        let place = x.map { ##" x="\##(f($0))""## } ?? ##" xmlns="http://www.w3.org/2000/svg""##
        var out = [
            ##"<svg class="panel"\##(place) width="\##(Int(W))" height="\##(Int(H))" viewBox="0 0 \##(Int(W)) \##(Int(H))" font-family="sans-serif" font-size="13" role="img" aria-label="\##(escapeHTML(panel.title)) per epoch">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
            ##"<text x="\##(f(left))" y="20" font-size="15" font-weight="bold">\##(escapeHTML(panel.title))</text>"##,
        ]
        for v in yTicks(panel.yRange) {
            let yy = py(v)
            out.append(
                ##"<line x1="\##(f(left))" y1="\##(f(yy))" x2="\##(f(left + plotW))" y2="\##(f(yy))" stroke="#e2e2e2"/>"##
            )
            out.append(##"<text x="\##(f(left - 6))" y="\##(f(yy + 4))" text-anchor="end">\##(tickLabel(v))</text>"##)
        }
        for e in xTicks(panel.epochs) {
            out.append(
                ##"<line x1="\##(f(px(e)))" y1="\##(f(top + plotH))" x2="\##(f(px(e)))" y2="\##(f(top + plotH + 5))" stroke="#888"/>"##
            )
            out.append(##"<text x="\##(f(px(e)))" y="\##(f(top + plotH + 19))" text-anchor="middle">\##(e)</text>"##)
        }
        out.append(##"<text x="\##(f(left + plotW / 2))" y="\##(f(H - 6))" text-anchor="middle">epoch</text>"##)
        out.append(
            ##"<text transform="translate(16 \##(f(top + plotH / 2))) rotate(-90)" text-anchor="middle">\##(panel.loss) (log scale)</text>"##
        )
        out.append(
            ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotW))" height="\##(f(plotH))" fill="none" stroke="#888"/>"##
        )
        // Raw values faint (with a dot per epoch while they stay apart), the average bold on top.
        var legend: [(String, String, Bool, Bool)] = []
        for s in panel.series {
            let dash = s.dashed ? ##" stroke-dasharray="6,4""## : ""
            let raw = s.points.map { "\(f(px($0.epoch))),\(f(py($0.value)))" }
            // Without an average (a short run) the values themselves are the curve to read.
            let faint = !s.smoothed.isEmpty
            if raw.count > 1 {
                out.append(
                    ##"<polyline class="raw" points="\##(raw.joined(separator: " "))" fill="none" stroke="\##(s.color)" stroke-opacity="\##(faint ? "0.45" : "1")" stroke-width="\##(faint ? "1" : "2")"\##(dash)/>"##
                )
            }
            if raw.count <= 150 {
                for p in s.points {
                    out.append(
                        ##"<circle cx="\##(f(px(p.epoch)))" cy="\##(f(py(p.value)))" r="\##(raw.count == 1 || !faint ? 3 : 2)" fill="\##(s.color)" fill-opacity="\##(faint ? "0.5" : "1")"/>"##
                    )
                }
            }
            legend.append((s.name + " per epoch", s.color, s.dashed, !faint))
            if !s.smoothed.isEmpty {
                let points = s.smoothed.map { "\(f(px($0.epoch))),\(f(py($0.value)))" }
                out.append(
                    ##"<polyline class="smoothed" points="\##(points.joined(separator: " "))" fill="none" stroke="\##(s.color)" stroke-width="2.5"\##(dash)/>"##
                )
                legend.append((s.name + " moving average", s.color, s.dashed, true))
            }
        }
        if panel.series.isEmpty {
            out.append(
                ##"<text x="\##(f(left + plotW / 2))" y="\##(f(top + plotH / 2))" text-anchor="middle" fill="#666">no finite values</text>"##
            )
        }
        // The legend: two entries a row above the plot.
        for (k, (name, color, dashed, bold)) in legend.enumerated() {
            let lx = left + Double(k % 2) * 240, ly = 36 + Double(k / 2) * 15
            let dash = dashed ? ##" stroke-dasharray="6,4""## : ""
            out.append(
                ##"<line x1="\##(f(lx))" y1="\##(f(ly - 4))" x2="\##(f(lx + 26))" y2="\##(f(ly - 4))" stroke="\##(color)" stroke-width="\##(bold ? 2.5 : 1)"\##(bold ? "" : ##" stroke-opacity="0.6""##)\##(dash)/>"##
            )
            out.append(##"<text x="\##(f(lx + 32))" y="\##(f(ly))" font-size="12">\##(escapeHTML(name))</text>"##)
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    /// The exponential moving average of log(value) over about a fifth of the series (3 to 20
    /// epochs), started at the first value; zeros count as the least positive value. Empty for
    /// series shorter than `minSmoothed`.
    static func smooth(_ points: [(epoch: Int, value: Double)]) -> [(epoch: Int, value: Double)] {
        guard points.count >= minSmoothed else { return [] }
        let floor = points.map(\.value).filter { $0 > 0 }.min() ?? 1
        let span = min(20, max(3, Double(points.count) / 5)), alpha = 2 / (span + 1)
        var average = log(max(points[0].value, floor))
        return points.map { p in
            average += alpha * (log(max(p.value, floor)) - average)
            return (p.epoch, exp(average))
        }
    }

    /// From a little below the least positive value to a little above the greatest (a twentieth
    /// of the range's logarithm on each side, and at least a factor 1.5 in all).
    static func yRange(_ values: [Double]) -> ClosedRange<Double> {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        guard var lo = positive.min().map(log10), var hi = positive.max().map(log10) else { return 0.1...1 }
        if hi - lo < log10(1.5) {
            let mid = (lo + hi) / 2
            (lo, hi) = (mid - log10(1.5) / 2, mid + log10(1.5) / 2)
        }
        let pad = (hi - lo) / 20
        // Within Double's exponents (10^(-330) is 0 and 10^(310) infinite); values past them are
        // drawn at the edge.
        let bottom = min(max(lo - pad, -300), 299), top = max(min(hi + pad, 300), bottom + 0.1)
        return pow(10, bottom)...pow(10, top)
    }

    /// Gridline values inside `range`: powers of ten, with 2 and 5 times them (or every digit)
    /// when the range spans few decades; evenly spaced values when it spans less than one.
    static func yTicks(_ range: ClosedRange<Double>) -> [Double] {
        let (lo, hi) = (log10(range.lowerBound), log10(range.upperBound))
        guard lo.isFinite, hi.isFinite, hi > lo else { return [] }
        let decades = Int(hi.rounded(.up)) - Int(lo.rounded(.down))
        // Many decades: every power of ten, or every few so that at most 8 are drawn.
        if decades > 6 {
            let step = (decades + 7) / 8
            return stride(from: Int(lo.rounded(.up)), through: Int(hi.rounded(.down)), by: 1)
                .filter { $0 % step == 0 }.map { pow(10, Double($0)) }
        }
        for mantissas in [[1.0], [1.0, 2, 5], [1.0, 2, 3, 4, 5, 6, 7, 8, 9]] {
            let ticks = (Int(lo.rounded(.down))...Int(hi.rounded(.up))).flatMap { d in
                mantissas.map { $0 * pow(10, Double(d)) }
            }.filter { range.contains($0) }
            if ticks.count >= 3 { return ticks.count > 10 ? ticks.filter { [1, 2, 5].contains(mantissa($0)) } : ticks }
        }
        // Less than a decade with few digits inside: 4 to 8 evenly spaced round values.
        let step = niceCeiling((range.upperBound - range.lowerBound) / 8)
        let start = (range.lowerBound / step).rounded(.up)
        return (0..<8).map { (start + Double($0)) * step }.filter { range.contains($0) }
    }

    static func mantissa(_ v: Double) -> Double { (v / pow(10, log10(v).rounded(.down))).rounded() }

    static func tickLabel(_ v: Double) -> String {
        let e = log10(v)
        return abs(e) >= 4 ? String(format: "%.0e", v) : String(format: "%.3g", v)
    }

    /// Epochs at multiples of 1, 2 or 5 times a power of ten, about 6 of them; the first epoch
    /// too when the range has no multiple.
    static func xTicks(_ epochs: ClosedRange<Int>) -> [Int] {
        let step = max(1, Int(niceCeiling(Double(epochs.upperBound - epochs.lowerBound) / 6)))
        let start = (epochs.lowerBound + step - 1) / step * step
        let ticks = Array(stride(from: start, through: epochs.upperBound, by: step))
        return ticks.isEmpty ? [epochs.lowerBound] : ticks
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// 1, 2 or 5 times a power of ten, at least `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v.isFinite, v > 0 else { return 1 }
        let p = pow(10, (log10(v)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= v } ?? 10 * p
    }
}
