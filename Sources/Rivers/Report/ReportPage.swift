// `report.html`: one self-contained page (images embedded, charts as inline SVG, no script, no
// network) that shows runs and a dataset: the evaluation's answer first, then counts per label
// and site, the label measure, and per run its loss curves, sample grids over the epochs,
// generated images beside real ones and the memorization check. Every path on it is relative to
// the page's folder, and every image links to its file (at its own size, when the page stays
// beside the runs).
import Foundation

public struct ReportPage {
    public var title = "rivers report"
    public var runs: [RunSummary]
    public var dataset: DatasetCounts?
    /// The water-fraction label measure, for synthetic scenes (`rivers demo`).
    public var labelMeasure: LabelMeasure?
    /// What `rivers evaluate` measured, shown first.
    public var evaluation: EvaluationResult?
    /// Images of each kind shown per run (the measure and the check use all that were read).
    public var shown = 12
    public var created = Date()
    /// The folder the page is written into: every path on the page (links and text) is relative
    /// to it, so the page names no absolute folder (a home folder, say) and its links work
    /// wherever the folder is moved with the runs.
    public var pageFolder = FileManager.default.currentDirectoryPath

    /// Marks the page as the tool's own, so a later `rivers report` may replace it and nothing else.
    public static let generatorTag = #"<meta name="generator" content="rivers report">"#

    public init(runs: [RunSummary], dataset: DatasetCounts? = nil, labelMeasure: LabelMeasure? = nil) {
        self.runs = runs
        self.dataset = dataset
        self.labelMeasure = labelMeasure
    }

    public func html() throws -> String {
        var body: [String] = []
        var contents: [(String, String)] = []
        if let evaluation {
            contents.append(("evaluation", "Does augmentation help?"))
            body.append(evaluationSection(evaluation))
        }
        if let dataset {
            contents.append(("dataset", "Dataset"))
            body.append(datasetSection(dataset))
        }
        if let labelMeasure {
            contents.append(("measure", "Label measure"))
            body.append(measureSection(labelMeasure))
        }
        for (i, run) in runs.enumerated() {
            let id = "run-\(i + 1)"
            contents.append((id, "Label \(run.record.label): \(run.name)"))
            body.append(try runSection(run, id: id))
        }
        let nav = contents.map { ##"<li><a href="#\##($0.0)">\##(escapeHTML($0.1))</a></li>"## }.joined(separator: "\n")
        let labels = Set(runs.map(\.record.label)).sorted().map { "L\($0)" }.joined(separator: ", ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            \(Self.generatorTag)
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escapeHTML(title))</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <header>
            <h1>\(escapeHTML(title))</h1>
            <p class="meta">\(runs.count) run\(runs.count == 1 ? "" : "s")\(labels.isEmpty ? "" : " (labels \(labels))") · written \(escapeHTML(utcDate(created, "yyyy-MM-dd HH:mm"))) UTC by rivers</p>
            <nav><ol>
            \(nav)
            </ol></nav>
            </header>
            <main>
            \(body.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    // MARK: sections

    func datasetSection(_ d: DatasetCounts) -> String {
        let sites = d.sites
        func siteName(_ site: String) -> String { site == "S0" ? "S0 (generated)" : site }
        let groups = d.labels.map { label in
            BarChart.Group(
                title: "L\(label)",
                bars: d.stages.map { stage in
                    BarChart.Bar(
                        caption: Self.shortStage(stage.name),
                        segments: sites.map { (siteName($0), Double(stage.counts[label]?[$0] ?? 0)) })
                })
        }
        var head =
            "<tr><th>label</th><th>site</th>" + d.stages.map { "<th>\(escapeHTML($0.name))</th>" }.joined() + "</tr>"
        head = "<thead>\(head)</thead>"
        var rows: [String] = []
        for label in d.labels {
            for site in sites where d.stages.contains(where: { ($0.counts[label]?[site] ?? 0) > 0 }) {
                rows.append(
                    "<tr><td>L\(label)</td><td>\(escapeHTML(site))</td>"
                        + d.stages.map { "<td class=\"n\">\($0.counts[label]?[site] ?? 0)</td>" }.joined() + "</tr>")
            }
            rows.append(
                "<tr class=\"sum\"><td>L\(label)</td><td>all</td>"
                    + d.stages.map { "<td class=\"n\">\($0.total(label: label))</td>" }.joined() + "</tr>")
        }
        for (c, range) in [1, 2].map({ ($0, labels(ofCategory: $0)) }) where d.labels.contains(where: range.contains) {
            rows.append(
                "<tr class=\"sum\"><td>category \(c)</td><td>labels \(range.lowerBound)-\(range.upperBound)</td>"
                    + d.stages.map { s in "<td class=\"n\">\(range.reduce(0) { $0 + s.total(label: $1) })</td>" }
                    .joined() + "</tr>")
        }
        let folders = d.stages.map {
            "<li>\(escapeHTML($0.name)): \(link($0.folder, "<code>\(escapeHTML(pagePath($0.folder)))</code>"))</li>"
        }.joined()
        return """
            <section id="dataset">
            <h2>Dataset: images per label and camera site</h2>
            <p>Before balance is the raw dataset, after balance the diffusion training data (rotations and flips even out the sites within a label), after augment the classifier dataset (generated images even out the categories; site S0 marks pure generations).</p>
            <ul class="folders">\(folders)</ul>
            <figure>\(BarChart.svg(groups, names: sites.map(siteName), colors: ["S0 (generated)": "#333333"], yTitle: "images"))
            <figcaption>Images per label at each stage (b: before balance, bal: after balance, aug: after augment), stacked by site.</figcaption></figure>
            <div class="wide"><table class="counts">\(head)<tbody>
            \(rows.joined(separator: "\n"))
            </tbody></table></div>
            </section>
            """
    }

    static func shortStage(_ name: String) -> String {
        ["before balance": "b", "after balance": "bal", "after augment": "aug"][name] ?? name
    }

    func measureSection(_ m: LabelMeasure) -> String {
        let groups = m.rows.map { row in
            BarChart.Group(
                title: "L\(row.label)",
                bars: [
                    BarChart.Bar(caption: "real", segments: [("real", row.real.count > 0 ? row.real.mean : 0)]),
                    BarChart.Bar(
                        caption: "gen", segments: [("generated", row.generated.count > 0 ? row.generated.mean : 0)]),
                ])
        }
        let table = m.table
        let head = "<thead><tr>" + table[0].map { "<th>\(escapeHTML($0))</th>" }.joined() + "</tr></thead>"
        let rows = table.dropFirst().map {
            "<tr>"
                + $0.enumerated().map {
                    $0 == 0 ? "<td>\(escapeHTML($1))</td>" : "<td class=\"n\">\(escapeHTML($1))</td>"
                }.joined() + "</tr>"
        }
        let pairs = m.orderedPairs
        let verdict =
            pairs.of == 0
            ? "There are not enough labels with real and generated images to compare."
            : "Of the \(counted(pairs.of, "pair")) of labels whose real images are in order of water, the generated images keep \(pairs.kept) in the same order."
        return """
            <section id="measure">
            <h2>Label measure: does each model make its own label's content?</h2>
            <p>The fraction of water-colored pixels (blue exceeds red by 12 or more of 255), a measure that needs no trained network. In the synthetic scenes water widens with the flow label, so a model that learned its label shows about the fraction of its training images. \(escapeHTML(verdict))</p>
            <figure>\(BarChart.svg(groups, names: ["real", "generated"], colors: ["real": "#4e79a7", "generated": "#f28e2b"], yTitle: "water fraction", valueFormat: "%.2f"))
            <figcaption>Mean water fraction per label: the training images (real) and the run's generated images (gen).</figcaption></figure>
            <div class="wide"><table>\(head)<tbody>\(rows.joined(separator: "\n"))</tbody></table></div>
            </section>
            """
    }

    func runSection(_ run: RunSummary, id: String) throws -> String {
        let c = run.record.train
        let bestRow = run.log.min { $0.nLoss < $1.nLoss }
        var facts = [
            "\(c.height)x\(c.width) images",
            "widths \(c.widths.map(String.init).joined(separator: " "))",
            "block depth \(c.blockDepth)", "batch \(c.batchSize)", "learning rate \(formatNumber(c.learningRate))",
            "\(run.log.last?.epoch ?? 0) of \(counted(c.numEpochs, "epoch")) logged",
        ]
        if let bestRow { facts.append(String(format: "best n_loss %.4f", bestRow.nLoss) + " (epoch \(bestRow.epoch))") }
        let totalSeconds = run.log.reduce(0) { $0 + $1.seconds }
        if totalSeconds > 0 { facts.append("training time \(ProgressBar.clock(totalSeconds))") }
        let dir = run.directory
        var parts = [
            """
            <section id="\(id)" class="run">
            <h2>Label \(run.record.label): \(escapeHTML(run.name))</h2>
            <p class="meta">\(facts.map(escapeHTML).joined(separator: " · "))</p>
            <p class="meta">run directory \(link(dir.path, "<code>\(escapeHTML(pagePath(dir.path)))</code>")), trained on \(link(run.record.inDir, "<code>\(escapeHTML(pagePath(run.record.inDir)))</code>")), started \(escapeHTML(run.record.created))</p>
            """
        ]
        parts.append("<h3>Loss</h3>")
        // A log with bad lines says which were left out, before the curves of the good ones.
        if let problem = run.logContents.summary(pagePath(dir.logPath)) {
            parts.append("<p class=\"problem\">\(escapeHTML(problem))</p>")
        }
        if run.log.isEmpty {
            parts.append(
                run.logContents.problems.isEmpty
                    ? "<p>No epoch has finished yet (log.csv is empty or missing).</p>"
                    : "<p>No loss curves: log.csv \(run.logContents.readable ? "has no usable row" : "is unreadable").</p>"
            )
        } else {
            let validation = run.log.contains { $0.validation != nil }
            parts.append(
                """
                <figure><div class="losses">\(LossPlot.panels(run.log).map { LossPlot.svg($0) }.joined(separator: "\n"))</div>
                <figcaption>The mean loss of each epoch's steps from \(link(dir.logPath, "log.csv")), one panel per loss on its own logarithmic axis: faint lines and dots per epoch, bold lines their exponential moving average (from 10 epochs on; of the logarithm, so a single spike bends it little)\(validation ? "; orange dashed: the held-out validation images (val_ columns)" : ""). The same picture is the run's \(link(dir.plotPath, "loss.svg")).</figcaption></figure>
                """
            )
        }

        parts.append("<h3>Samples over the epochs</h3>")
        if run.sampleGrids.isEmpty {
            parts.append("<p>No sample grids: the run was trained with <code>--generate_on_epoch 0</code>.</p>")
        } else {
            parts.append(
                "<p>The same starting noise at every epoch, so the grids show what the EMA network learned between them. Click a grid for the image file at its own size.</p><div class=\"grids\">"
            )
            for (epoch, path) in RunSummary.spread(run.sampleGrids, count: 6) {
                let picture =
                    (try? ImageFile.read(path)).map {
                        try? imageTag(
                            $0, alt: "sample grid after epoch \(epoch)", displayWidth: Self.gridWidth, pixels: true)
                    } ?? nil
                parts.append(
                    "<figure><figcaption>epoch \(epoch)</figcaption>\(link(path, picture ?? "<p>\(escapeHTML(pagePath(path))) could not be read</p>"))</figure>"
                )
            }
            parts.append("</div>")
        }

        parts.append("<h3>Generated beside real</h3>")
        let w = displayWidth(run)
        let generated = try run.generated.prefix(shown).map {
            let path = (dir.generatedDir as NSString).appendingPathComponent($0.name)
            return link(path, try imageTag($0.image, alt: $0.name, displayWidth: w, title: $0.name))
        }
        let real = try RunSummary.spread(run.real, count: shown).map {
            link(
                $0.path,
                try imageTag(
                    $0.image, alt: ($0.path as NSString).lastPathComponent, displayWidth: w, title: pagePath($0.path)))
        }
        let realProblem = run.realProblem?.replacingOccurrences(of: run.record.inDir, with: pagePath(run.record.inDir))
        parts.append(
            """
            <div class="pair">
            <div><h4>generated (\(run.generated.count)\(run.generated.count > shown ? ", first \(shown) shown" : ""))</h4>\(generated.isEmpty ? "<p>None yet: <code>rivers infer --model_dir \(escapeHTML(pagePath(dir.path)))</code> writes some.</p>" : "<div class=\"tiles\">\(generated.joined())</div>")</div>
            <div><h4>real, training images (\(run.real.count)\(run.real.count > shown ? ", \(shown) shown" : ""))</h4>\(real.isEmpty ? "<p>\(escapeHTML(realProblem ?? "none"))</p>" : "<div class=\"tiles\">\(real.joined())</div>")</div>
            </div>
            """)

        parts.append("<h3>Memorization check</h3>")
        if run.matches.isEmpty {
            parts.append(
                "<p>Not possible: \(escapeHTML(run.generated.isEmpty ? "the run has no generated images" : (realProblem ?? "no training images")))</p>"
            )
        } else {
            let copies = run.matches.filter(\.nearCopy).count
            let d = run.matches.map(\.distance).sorted()
            parts.append(
                String(
                    format:
                        "<p>Each generated image beside its nearest training image (root-mean-square distance of RGB in [0, 1] at %d pixels high). Distances: min %.3f, median %.3f, max %.3f; %@.</p>",
                    Memorization.compareHeight, d.first!, d[d.count / 2], d.last!,
                    copies == 0
                        ? String(format: "no near copies (below %.2f)", Memorization.nearCopyThreshold)
                        : String(
                            format: "<strong>%d near copies</strong> (below %.2f), marked", copies,
                            Memorization.nearCopyThreshold)))
            parts.append("<div class=\"matches\">")
            for m in run.matches.sorted(by: { $0.distance < $1.distance }).prefix(shown) {
                let g = run.generated[m.generated], r = run.real[m.training]
                let gPath = (dir.generatedDir as NSString).appendingPathComponent(g.name)
                parts.append(
                    "<figure class=\"\(m.nearCopy ? "copy" : "")\"><div class=\"two\">\(link(gPath, try imageTag(g.image, alt: g.name, displayWidth: w, title: g.name)))\(link(r.path, try imageTag(r.image, alt: "nearest training image", displayWidth: w, title: pagePath(r.path))))</div><figcaption>\(String(format: "%.3f", m.distance))\(m.nearCopy ? " near copy" : "") · \(escapeHTML((r.path as NSString).lastPathComponent))</figcaption></figure>"
                )
            }
            parts.append("</div>")
        }
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    // MARK: paths

    /// `path` as the page shows it: relative to the page's folder (with `..` where it lies
    /// outside), never absolute.
    func pagePath(_ path: String) -> String { Self.relativePath(path, from: pageFolder) }

    /// `content` as a link to the file or folder at `path`, relative to the page.
    func link(_ path: String, _ content: String) -> String {
        ##"<a href="\##(escapeHTML(Self.urlPath(pagePath(path))))">\##(content)</a>"##
    }

    /// The path from `folder` to `path`: `a/b`, `../x/y`, or `.` for the folder itself. Both are
    /// made absolute (against the current folder) and `.` and `..` removed by their names, links
    /// not followed, as a browser resolves a relative link: a run reached through a link to
    /// another disk is linked through it, and the page names no folder the link hides.
    public static func relativePath(_ path: String, from folder: String) -> String {
        func absolute(_ p: String) -> [Substring] {
            URL(fileURLWithPath: p).standardizedFileURL.path.split(separator: "/")
        }
        let target = absolute(path), base = absolute(folder)
        var common = 0
        while common < min(target.count, base.count) && target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// A relative path as a URL path: every byte but letters, digits, `/` and `-._~` percent-encoded
    /// (so `#`, `?`, `%` and spaces in names stay part of the name).
    public static func urlPath(_ path: String) -> String {
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        allowed.insert(charactersIn: "/-._~")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    /// One picture of the runs: per run (in the given order) a row of `perSide` training images,
    /// a blank tile, then `perSide` generated images, all at the model's size scaled up to
    /// about `tileHeight` pixels high. Nil when no run has both kinds.
    public static func overview(_ runs: [RunSummary], perSide: Int = 3, tileHeight: Int = 96) -> Image? {
        let usable = runs.filter { !$0.real.isEmpty && !$0.generated.isEmpty }
        guard let first = usable.first else { return nil }
        let scale = max(1, tileHeight / first.height)
        let (W, H) = (first.width * scale, first.height * scale)
        func tile(_ image: Image) -> Image { Geometry.resizeBilinear(image, width: W, height: H) }
        let white = Image(width: W, height: H, pixels: [UInt8](repeating: 255, count: W * H * 3))
        var rows: [Image] = []
        for run in usable where run.height == first.height && run.width == first.width {
            let real = RunSummary.spread(run.real.map(\.image), count: perSide).map(tile)
            let generated = run.generated.prefix(perSide).map { tile($0.image) }
            let left = real + Array(repeating: white, count: perSide - real.count)
            let right = generated + Array(repeating: white, count: perSide - generated.count)
            rows.append(
                row(
                    left + [Image(width: W / 4, height: H, pixels: [UInt8](repeating: 255, count: W / 4 * H * 3))]
                        + right, gap: 2))
        }
        return Image.grid(rows, columns: 1)
    }

    /// Images of one height side by side with a white gap.
    static func row(_ images: [Image], gap: Int) -> Image {
        let H = images.map(\.height).max() ?? 0, W = images.reduce(0) { $0 + $1.width } + gap * max(images.count - 1, 0)
        var out = Image(width: W, height: H, pixels: [UInt8](repeating: 255, count: W * H * 3))
        var x0 = 0
        for image in images {
            for y in 0..<image.height {
                let dst = (y * W + x0) * 3
                out.pixels.replaceSubrange(
                    dst..<(dst + image.width * 3),
                    with: image.pixels[(y * image.width * 3)..<((y + 1) * image.width * 3)])
            }
            x0 += image.width + gap
        }
        return out
    }

    // MARK: images

    /// Tiles are shown at least 240 pixels wide (small models' images are scaled up by the browser).
    func displayWidth(_ run: RunSummary) -> Int { max(240, min(run.width, 300)) }
    /// Sample grids are laid out two or three to a row of the page (one on a narrow screen) and
    /// embedded at up to twice this width.
    static let gridWidth = 560

    /// An `<img>` holding `image` as a JPEG data URI (quality 90: a tenth of a PNG's size for
    /// photos, and no visible loss at the sizes shown); images larger than twice the size shown are
    /// scaled down first, so the page stays small. With `pixels`, an image of at most
    /// `losslessPixels` is a PNG instead, drawn with its pixels kept square when the browser
    /// enlarges it (a sample grid of a small model: JPEG's ringing would be enlarged with it).
    func imageTag(_ image: Image, alt: String, displayWidth: Int, title: String? = nil, pixels: Bool = false) throws
        -> String
    {
        var image = image
        if image.width > 2 * displayWidth {
            let h = max(1, image.height * 2 * displayWidth / image.width)
            image = Geometry.resizeArea(image, width: 2 * displayWidth, height: h)
        }
        let png = pixels && image.width * image.height <= Self.losslessPixels
        let data = try ImageFile.encode(image, path: png ? "tile.png" : "tile.jpg", jpegQuality: 90)
        let uri = "data:image/\(png ? "png" : "jpeg");base64,\(data.base64EncodedString())"
        let h = max(1, image.height * displayWidth / max(image.width, 1))
        // Enlarged at least about twice in the narrowest column: square pixels, not a blur.
        let square = pixels && image.width * 2 <= Self.gridColumn
        return
            #"<img src="\#(uri)" width="\#(displayWidth)" height="\#(h)" alt="\#(escapeHTML(alt))"\#(title.map { #" title="\#(escapeHTML($0))""# } ?? "")\#(square ? #" class="px""# : "")>"#
    }

    /// Sample grids of at most this many pixels are embedded losslessly.
    static let losslessPixels = 256 * 256
    /// The narrowest column of the sample grids on a page wide enough for two (CSS `.grids`).
    static let gridColumn = 340

    static let style = """
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f; margin: 0; background: #fafafa; }
        header, main { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
        header { padding-top: 18px; }
        h1 { margin: 0 0 4px; font-size: 26px; }
        h2 { margin: 34px 0 6px; font-size: 20px; border-bottom: 1px solid #ddd; padding-bottom: 4px; overflow-wrap: anywhere; }
        h3 { margin: 20px 0 6px; font-size: 16px; }
        h4 { margin: 6px 0; font-size: 14px; font-weight: 600; }
        code { font-size: 13px; background: #eef0f2; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
        a code { color: inherit; }
        .meta { color: #555; margin: 2px 0; }
        .problem { color: #a61b1b; overflow-wrap: anywhere; }
        nav ol { columns: 2; margin: 8px 0 0; padding-left: 22px; }
        figure { margin: 8px 0; }
        figcaption { font-size: 13px; color: #555; }
        svg { max-width: 100%; height: auto; background: white; border: 1px solid #e5e5e5; }
        img { display: block; max-width: 100%; height: auto; background: #ddd; }
        a img { cursor: zoom-in; }
        table { border-collapse: collapse; margin: 10px 0; font-size: 14px; }
        th, td { border-bottom: 1px solid #e2e2e2; padding: 3px 10px; text-align: left; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr.sum td { font-weight: 600; background: #f1f3f5; }
        .losses { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 12px; }
        .losses svg { width: 100%; }
        .grids { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr)); gap: 14px 18px; align-items: start; }
        .grids figure { margin: 0; }
        .grids img { width: 100%; }
        img.px { image-rendering: pixelated; }
        .grids figcaption { font-size: 14px; font-weight: 600; color: #1d1d1f; margin-bottom: 3px; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
        .pair > div { min-width: 0; }
        .tiles { display: flex; flex-wrap: wrap; gap: 4px; }
        .matches { display: flex; flex-wrap: wrap; gap: 12px; }
        .matches figure { margin: 0; padding: 4px; border: 2px solid transparent; max-width: 100%; }
        .matches .two { display: flex; flex-direction: column; gap: 2px; }
        .matches figure.copy { border-color: #d62728; }
        .matches figcaption { max-width: 300px; overflow-wrap: anywhere; }
        .folders { margin: 4px 0; font-size: 14px; }
        .verdict { font-size: 16px; padding-left: 22px; }
        .tiles figure { margin: 0 12px 8px 0; max-width: 100%; }
        .wide { overflow-x: auto; max-width: 100%; background: linear-gradient(to right, #fafafa 30%, rgba(250,250,250,0)) left / 40px 100% no-repeat local, linear-gradient(to left, #fafafa 30%, rgba(250,250,250,0)) right / 40px 100% no-repeat local, radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.2), transparent) left / 14px 100% no-repeat scroll, radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.2), transparent) right / 14px 100% no-repeat scroll; }
        @media (max-width: 800px) { .pair { grid-template-columns: 1fr; } nav ol { columns: 1; } }
        """
}
