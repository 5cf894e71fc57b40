// The documentation against itself and the code: every relative link of README.md and docs/
// reaches a file (and a heading, when it names one), and the README stays a page for users.
import Foundation
import RiversCLI
import XCTest

final class DocsTests: XCTestCase {
    /// The repository's root: two folders above this file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// README.md and every Markdown file below docs/, as paths relative to the root.
    static func pages() throws -> [String] {
        var pages = ["README.md"]
        let docs = root.appendingPathComponent("docs")
        let walker = FileManager.default.enumerator(atPath: docs.path)
        while let path = walker?.nextObject() as? String {
            if path.hasSuffix(".md") { pages.append("docs/" + path) }
        }
        return pages.sorted()
    }

    /// GitHub's anchor of a heading: lower case, punctuation dropped but - and _, spaces to -.
    static func anchor(_ heading: String) -> String {
        let kept = heading.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == " " }
        return kept.replacingOccurrences(of: " ", with: "-")
    }

    /// The anchors of a Markdown file's headings (outside fenced code blocks).
    static func anchors(of text: String) -> Set<String> {
        var inside = false
        var result = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { inside.toggle(); continue }
            guard !inside, line.hasPrefix("#") else { continue }
            result.insert(anchor(String(line.drop(while: { $0 == "#" }).drop(while: { $0 == " " }))))
        }
        return result
    }

    /// The targets of the inline links `](target)` of a Markdown text.
    static func links(in text: String) -> [String] {
        var result: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "](") {
            let after = rest[open.upperBound...]
            guard let close = after.firstIndex(of: ")") else { break }
            result.append(String(after[..<close]))
            rest = after[close...]
        }
        return result
    }

    func testAnchorsFollowGitHubsRule() {
        XCTAssertEqual(Self.anchor("How long a run takes: the recipe table"), "how-long-a-run-takes-the-recipe-table")
        XCTAssertEqual(Self.anchor("`rivers split`"), "rivers-split")
        XCTAssertEqual(Self.anchor("sample_images"), "sample_images")
        XCTAssertEqual(Self.links(in: "see [a](b.md#c) and [d](https://e.f)"), ["b.md#c", "https://e.f"])
    }

    func testEveryRelativeLinkReachesAFileAndAHeading() throws {
        let pages = try Self.pages()
        XCTAssertTrue(pages.contains("docs/model.md"), "the repository carries the model's specification")
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            let folder = (page as NSString).deletingLastPathComponent
            for link in Self.links(in: text) where !link.contains("://") && !link.hasPrefix("mailto:") {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let file = parts[0].isEmpty ? page : (folder as NSString).appendingPathComponent(parts[0])
                let url = Self.root.appendingPathComponent(file).standardizedFileURL
                XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), "\(page): \(link): no such file")
                if parts.count == 2, file.hasSuffix(".md"), let target = try? String(contentsOf: url, encoding: .utf8) {
                    XCTAssertTrue(Self.anchors(of: target).contains(parts[1]), "\(page): \(link): no such heading")
                }
                checked += 1
            }
            XCTAssertFalse(text.contains("../shared"), "\(page) points outside the repository")
        }
        XCTAssertGreaterThan(checked, 20, "the link scan found too few links to be working")
    }

    func testTheReadmeIsAPageForUsers() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertLessThan(readme.utf8.count, 15_000, "README.md has grown past 15 KB: move reference to docs/")
        // The two commands CI keeps true, and the guide that CI runs.
        XCTAssertTrue(readme.contains("    swift run -c release rivers demo\n"))
        XCTAssertTrue(readme.contains("    swift test -c release --disable-swift-testing\n"))
        let runnable = readme.components(separatedBy: "<!-- runnable -->\n```sh\n").count - 1
        XCTAssertGreaterThanOrEqual(runnable, 8, "the guide's steps are runnable blocks")
        for command in ["split", "balance", "train-all", "augment", "evaluate", "report"] {
            XCTAssertTrue(readme.contains("```sh\nrivers \(command) "), "the guide has no `rivers \(command)` step")
        }
    }

    /// Each command's page starts with `rivers help --markdown <command>`, made from the same rows as
    /// --help, so an option added, renamed or given another default fails here until the page follows
    /// (`.ci/update-docs` rewrites it).
    func testEveryCommandPageCarriesItsGeneratedReference() throws {
        let end = "<!-- end of the generated reference -->"
        for command in RiversMain.commands {
            let page = "docs/commands/\(command.name).md"
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            guard let close = lines.firstIndex(of: end), close > 1 else {
                XCTFail("\(page) has no generated reference; run .ci/update-docs")
                continue
            }
            XCTAssertTrue(lines[0].hasPrefix("<!-- generated by `rivers help --markdown \(command.name)`"), page)
            XCTAssertEqual(
                lines[1..<close].joined(separator: "\n"), command.markdown(),
                "\(page) differs from rivers help --markdown \(command.name); run .ci/update-docs")
        }
    }
}
