// loss.svg: the training curves of a run, drawn as a small self-contained SVG chart.
import Foundation

public enum LossPlot {
    /// n_loss and i_loss (and their val_ twins when present) against the epoch, on one linear
    /// axis from 0 to the largest value, with gridlines and a legend. Any rows will do: they are
    /// drawn in epoch order, rows whose epoch is outside 1 ... `RunDirectory.maxLoggedEpoch` and
    /// values that are not finite are left out (`readLogContents` reports such rows).
    public static func svg(_ rows: [EpochLog]) -> String {
        // Within the bound, sums and differences of epochs cannot overflow.
        let rows = rows.filter { (1...RunDirectory.maxLoggedEpoch).contains($0.epoch) }.sorted { $0.epoch < $1.epoch }
        let (W, H) = (640.0, 360.0), (left, right, top, bottom) = (56.0, 150.0, 20.0, 40.0)
        let series: [(String, String, Bool, (EpochLog) -> Double?)] = [
            ("n_loss", "#1f77b4", false, { $0.nLoss }), ("i_loss", "#d62728", false, { $0.iLoss }),
            ("val_n_loss", "#1f77b4", true, { $0.validation?.nLoss }),
            ("val_i_loss", "#d62728", true, { $0.validation?.iLoss }),
        ]
        let values = rows.flatMap { r in series.compactMap { $0.3(r) } }.filter(\.isFinite)
        // The axis ends above the 98th percentile, not at the largest value: the first epochs'
        // losses can be ten times the rest, and would flatten every later change. Values above
        // the axis are drawn at its top.
        let sorted = values.sorted()
        let typical = sorted.isEmpty ? 1 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.98))] * 1.25
        let maxY = niceCeiling(min(sorted.last ?? 1, typical))
        let lastEpoch = max(rows.last?.epoch ?? 1, 2), firstEpoch = rows.first?.epoch ?? 1
        let plotW = W - left - right, plotH = H - top - bottom
        func x(_ e: Int) -> Double { left + plotW * Double(e - firstEpoch) / Double(max(lastEpoch - firstEpoch, 1)) }
        func y(_ v: Double) -> Double { top + plotH * (1 - min(max(v / maxY, 0), 1)) }
        var out = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(W))" height="\##(Int(H))" viewBox="0 0 \##(Int(W)) \##(Int(H))" font-family="sans-serif" font-size="12">"##,
            ##"<rect width="100%" height="100%" fill="white"/>"##,
        ]
        for k in 0...4 {
            let v = maxY * Double(k) / 4, yy = y(v)
            out.append(
                ##"<line x1="\##(f(left))" y1="\##(f(yy))" x2="\##(f(left + plotW))" y2="\##(f(yy))" stroke="#ddd"/>"##)
            out.append(
                ##"<text x="\##(f(left - 6))" y="\##(f(yy + 4))" text-anchor="end">\##(String(format: "%.3g", v))</text>"##
            )
        }
        let ticks = Array(Set([firstEpoch, (firstEpoch + lastEpoch) / 2, rows.last?.epoch ?? firstEpoch])).sorted()
        for e in ticks {
            out.append(##"<text x="\##(f(x(e)))" y="\##(f(top + plotH + 16))" text-anchor="middle">\##(e)</text>"##)
        }
        out.append(##"<text x="\##(f(left + plotW / 2))" y="\##(f(H - 6))" text-anchor="middle">epoch</text>"##)
        out.append(
            ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotW))" height="\##(f(plotH))" fill="none" stroke="#888"/>"##
        )
        var legend = 0
        for (name, color, dashed, value) in series {
            let points = rows.compactMap { r in value(r).flatMap { $0.isFinite ? "\(f(x(r.epoch))),\(f(y($0)))" : nil }
            }
            guard !points.isEmpty else { continue }
            let dash = dashed ? ##" stroke-dasharray="5,3""## : ""
            if points.count == 1 {
                let xy = points[0].split(separator: ",")
                out.append(##"<circle cx="\##(xy[0])" cy="\##(xy[1])" r="3" fill="\##(color)"/>"##)
            } else {
                out.append(
                    ##"<polyline points="\##(points.joined(separator: " "))" fill="none" stroke="\##(color)" stroke-width="1.5"\##(dash)/>"##
                )
            }
            let ly = top + 10 + Double(legend) * 18
            out.append(
                ##"<line x1="\##(f(W - right + 12))" y1="\##(f(ly))" x2="\##(f(W - right + 36))" y2="\##(f(ly))" stroke="\##(color)" stroke-width="2"\##(dash)/>"##
            )
            out.append(##"<text x="\##(f(W - right + 42))" y="\##(f(ly + 4))">\##(name)</text>"##)
            legend += 1
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// 1, 2 or 5 times a power of ten, at least `v`.
    static func niceCeiling(_ v: Double) -> Double {
        guard v.isFinite, v > 0 else { return 1 }
        let p = pow(10, (log10(v)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= v } ?? 10 * p
    }
}
