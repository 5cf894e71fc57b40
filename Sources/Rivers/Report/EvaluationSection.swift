// The report's evaluation section: the answer to "does augmentation help the classifier?" as
// `rivers evaluate` measured it, at the top of the page.
import Foundation

extension ReportPage {
    /// A table of string rows, the first the header; cells of the columns in `numeric` right-aligned.
    static func htmlTable(_ rows: [[String]], numeric: Set<Int>, className: String? = nil) -> String {
        let head = "<thead><tr>" + rows[0].map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead>"
        let body = rows.dropFirst().map { row in
            "<tr>"
                + row.enumerated().map {
                    numeric.contains($0.offset)
                        ? "<td class=\"n\">\(escapeHTML($0.element))</td>" : "<td>\(escapeHTML($0.element))</td>"
                }.joined() + "</tr>"
        }.joined(separator: "\n")
        return "<table\(className.map { " class=\"\($0)\"" } ?? "")>\(head)<tbody>\(body)</tbody></table>"
    }

    func evaluationSection(_ r: EvaluationResult) -> String {
        let s = r.settings
        let reference = r.arms[0].name
        var rows = [
            [
                "training set", "images", "generated", "balanced accuracy", "accuracy", "macro-F1",
                "2 categories: balanced accuracy", "train accuracy", "against \(reference)", "verdict",
            ]
        ]
        for a in r.arms {
            rows.append([
                a.name, String(a.counts.reduce(0, +)), String(a.generated), percentText(a.balancedAccuracy),
                percentText(a.accuracy), percentText(a.macroF1), percentText(a.categoryBalancedAccuracy),
                percentText(a.trainAccuracy),
                a.versusReference.map {
                    "\(points($0.seedInterval.mean)) [\(points($0.seedInterval.low)), \(points($0.seedInterval.high))]"
                }
                    ?? "reference",
                a.versusReference?.verdict.rawValue ?? "",
            ])
        }
        var recall = [["training set"] + (1...6).map { "L\($0) (\(r.testCounts[$0 - 1]) test)" }]
        for a in r.arms {
            recall.append([a.name] + a.recall.map { $0.map { String(format: "%.1f", 100 * $0) } ?? "-" })
        }
        let confusions = r.arms.map { a -> String in
            let m = r.summedConfusion(a)
            let table =
                [["true \\ predicted"] + (1...6).map { "L\($0)" }]
                + (0..<6).map { i in ["L\(i + 1)"] + m[i].map(String.init) }
            return "<figure><h4>\(escapeHTML(a.name))</h4>\(Self.htmlTable(table, numeric: Set(1...6)))</figure>"
        }.joined()
        var distance = ""
        if !r.distances.isEmpty {
            var fd = [["label", "images", "n per side", "Frechet distance", "KID"]]
            for d in r.distances {
                fd.append([
                    "L\(d.label)", d.kind, String(d.count), d.frechet.map { String(format: "%.2f", $0) } ?? "-",
                    d.kid.map { String(format: "%.3f", $0) } ?? "-",
                ])
            }
            distance = """
                <h3>Frechet distance to the test photos</h3>
                <p>In the pooled features of the classifier trained on '\(escapeHTML(reference))' (first seed): generated images (pure generations and variations apart) against the real test photos of their label, and the real training photos as the floor. Values compare within this table only, never with published FIDs; KID is unbiased at small counts.</p>
                <div class="wide">\(Self.htmlTable(fd, numeric: [2, 3, 4]))</div>
                """
        }
        let cas =
            r.casArm.map { a in
                "<p>Classification Accuracy Score ('\(escapeHTML(a.name))', generated images only): balanced accuracy \(percent(a.balancedAccuracy.mean)), \(String(format: "%.2f", a.balancedAccuracy.mean / max(r.arms[0].balancedAccuracy.mean, 1e-9))) of '\(escapeHTML(reference))'.</p>"
            } ?? ""
        return """
            <section id="evaluation">
            <h2>Does augmentation help? The classifier on held-out photos</h2>
            <ul class="verdict">\(r.verdictSentences.map { "<li><strong>\(escapeHTML($0))</strong></li>" }.joined())</ul>
            <p>The same classifier (\(s.imageSize[0])x\(s.imageSize[1]) input, \(counted(s.steps, "step", thousands: true)) of \(counted(s.batchSize, "image"))) trained on each training set with the same \(counted(s.seeds, "seed")), tested on the same \(counted(r.testCounts.reduce(0, +), "held-out real photo")) (\(link(r.testDir, "<code>\(escapeHTML(pagePath(r.testDir)))</code>"))). Percentages: mean ± 95% interval over seeds. Against '\(escapeHTML(reference))': the paired difference of balanced accuracy in points, with its 95% interval over seeds; the verdict also needs the bootstrap interval over test photos on the same side of 0. Label-shuffled control: \(percent(r.control.balancedAccuracy)) balanced accuracy (chance band \(percent(r.control.low)) to \(percent(r.control.high))).</p>
            <div class="wide">\(Self.htmlTable(rows, numeric: Set(1...8)))</div>
            \(cas)
            <h3>Recall per label (mean over seeds, %)</h3>
            <div class="wide">\(Self.htmlTable(recall, numeric: Set(1...6)))</div>
            <h3>Confusion matrices (summed over seeds; rows: true label)</h3>
            <div class="tiles">\(confusions)</div>
            \(distance)
            </section>
            """
    }
}
