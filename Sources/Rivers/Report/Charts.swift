// Bar charts as small self-contained SVG: grouped bars, each bar stacked from named segments.
import Foundation

public enum BarChart {
    public struct Bar: Sendable {
        public var caption: String
        public var segments: [(name: String, value: Double)]
        public init(caption: String, segments: [(name: String, value: Double)]) {
            self.caption = caption; self.segments = segments
        }
        public var total: Double { segments.reduce(0) { $0 + max($1.value, 0) } }
    }

    public struct Group: Sendable {
        public var title: String
        public var bars: [Bar]
        public init(title: String, bars: [Bar]) { self.title = title; self.bars = bars }
    }

    /// A qualitative palette (Tableau 10), repeated when there are more names.
    public static let palette = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ]

    /// Groups side by side (their titles below), each bar a stack of its segments in the order of
    /// `names`, colored by name; a legend of the names below the chart; `yTitle` on the axis.
    public static func svg(
        _ groups: [Group], names: [String], colors: [String: String] = [:], yTitle: String,
        valueFormat: String = "%.0f", width: Double = 760, plotHeight: Double = 220
    ) -> String {
        let (left, right, top) = (56.0, 12.0, 14.0)
        let bars = groups.reduce(0) { $0 + $1.bars.count }
        let gap = 14.0
        let plotW = width - left - right
        let barW = max(4, (plotW - gap * Double(groups.count + 1)) / Double(max(bars, 1)))
        let maxY = LossPlot.niceCeiling(groups.flatMap(\.bars).map(\.total).max() ?? 1)
        let legendColumns = max(1, Int(plotW / 110))
        let legendRows = (names.count + legendColumns - 1) / legendColumns
        let height = top + plotHeight + 52 + Double(legendRows) * 18 + 8
        func y(_ v: Double) -> Double { top + plotHeight * (1 - min(max(v / maxY, 0), 1)) }
        func color(_ name: String) -> String {
            colors[name] ?? palette[(names.firstIndex(of: name) ?? 0) % palette.count]
        }
        var out = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="11" role="img">"##
        ]
        for k in 0...4 {
            let v = maxY * Double(k) / 4
            out.append(
                ##"<line x1="\##(f(left))" y1="\##(f(y(v)))" x2="\##(f(left + plotW))" y2="\##(f(y(v)))" stroke="#e3e3e3"/>"##
            )
            out.append(
                ##"<text x="\##(f(left - 6))" y="\##(f(y(v) + 4))" text-anchor="end">\##(String(format: "%.3g", v))</text>"##
            )
        }
        out.append(
            ##"<text transform="translate(14 \##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(escapeHTML(yTitle))</text>"##
        )
        var x = left + gap
        for group in groups {
            let start = x
            for bar in group.bars {
                var base = 0.0
                for name in names {
                    for segment in bar.segments where segment.name == name && segment.value > 0 {
                        out.append(
                            ##"<rect x="\##(f(x))" y="\##(f(y(base + segment.value)))" width="\##(f(barW - 2))" height="\##(f(y(base) - y(base + segment.value)))" fill="\##(color(name))"><title>\##(escapeHTML(bar.caption)): \##(escapeHTML(name)) \##(String(format: valueFormat, segment.value))</title></rect>"##
                        )
                        base += segment.value
                    }
                }
                out.append(
                    ##"<text x="\##(f(x + barW / 2 - 1))" y="\##(f(y(base) - 3))" text-anchor="middle" font-size="10">\##(String(format: valueFormat, bar.total))</text>"##
                )
                out.append(
                    ##"<text x="\##(f(x + barW / 2 - 1))" y="\##(f(top + plotHeight + 12))" text-anchor="middle" font-size="9">\##(escapeHTML(bar.caption))</text>"##
                )
                x += barW
            }
            out.append(
                ##"<text x="\##(f((start + x) / 2))" y="\##(f(top + plotHeight + 28))" text-anchor="middle" font-weight="bold">\##(escapeHTML(group.title))</text>"##
            )
            x += gap
        }
        out.append(
            ##"<line x1="\##(f(left))" y1="\##(f(y(0)))" x2="\##(f(left + plotW))" y2="\##(f(y(0)))" stroke="#888"/>"##)
        for (i, name) in names.enumerated() {
            let lx = left + Double(i % legendColumns) * 110, ly = top + plotHeight + 44 + Double(i / legendColumns) * 18
            out.append(##"<rect x="\##(f(lx))" y="\##(f(ly))" width="12" height="12" fill="\##(color(name))"/>"##)
            out.append(##"<text x="\##(f(lx + 17))" y="\##(f(ly + 10))">\##(escapeHTML(name))</text>"##)
        }
        out.append("</svg>")
        return out.joined(separator: "\n")
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Text made safe for HTML and SVG content and attribute values.
public func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
