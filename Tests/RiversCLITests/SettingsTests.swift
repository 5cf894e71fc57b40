// The settings table against the command line: every option of every command is one row, the
// help shows the rows' ranges and defaults, and every whole-number setting refuses its upper
// bound plus one and Int.max from a flag, a --config file and a run's config.json.
import Foundation
import XCTest
import Rivers
import RiversCLI
import RiversTestSupport

final class SettingsTests: XCTestCase {
    func testEveryOptionOfEveryCommandIsOneRow() throws {
        let sections: [String: [String]] = [
            "balance": BalanceConfig.settings.map(\.key), "train": TrainConfig.settings.map(\.key),
            "train-all": TrainConfig.settings.map(\.key),
            "infer": GenerateConfig.settings.map(\.key), "augment": AugmentConfig.settings.map(\.key),
            "inpaint": InpaintConfig.settings.map(\.key),
            "report": ReportConfig.settings.map(\.key), "demo": DemoConfig.settings.map(\.key),
            "synthesize": SynthesizeConfig.settings.map(\.key), "split": SplitConfig.settings.map(\.key),
            "evaluate": EvaluateConfig.settings.map(\.key),
            // export has no section of config.default.json: its options are the command line's only.
            "export": [],
        ]
        XCTAssertEqual(Set(sections.keys), Set(RiversMain.commands.map(\.name)))
        for command in RiversMain.commands {
            let names = command.options.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "\(command.name) has an option twice: \(names)")
            XCTAssertTrue(
                names.contains("config") == !sections[command.name]!.isEmpty,
                "\(command.name) reads --config \(names.contains("config")) but has \(sections[command.name]!.count) settings there"
            )
            // Every key of the command's section is an option, with the section's default in the help.
            for key in sections[command.name]! {
                XCTAssertTrue(names.contains(key), "\(command.name): --\(key) missing")
            }
            let usage = oneLine(command.usage(width: 80))
            for o in command.options {
                XCTAssertTrue(usage.contains("--\(o.name)"), "\(command.name): --\(o.name)")
                if let r = o.range { XCTAssertTrue(usage.contains(oneLine(r)), "\(command.name): --\(o.name)'s range") }
                if let d = o.defaultValue {
                    XCTAssertTrue(usage.contains(oneLine("default: \(d)")), "\(command.name): --\(o.name)'s default")
                }
            }
        }
    }

    /// The command line that reaches each section, with its required inputs (none of which is
    /// looked at before the settings are checked).
    let commandOf: [String: [String]] = [
        "balance": ["balance", "--in_dir", "in"], "train": ["train", "--in_dir", "in/L1"],
        "generate": ["infer", "--model_dir", "run"],
        "augment": ["augment", "--in_dir", "in"],
        "inpaint": ["inpaint", "--model_dir", "run", "--images", "i", "--masks", "m"],
        "report": ["report", "--model_dir", "run"], "demo": ["demo"], "synthesize": ["synthesize", "--out_dir", "out"],
        "split": ["split", "--in_dir", "in", "--out_dir", "out"],
        "evaluate": ["evaluate", "--test_dir", "test", "--train_dirs", "train"],
    ]

    /// (section, key, values that must be refused as command-line words and as JSON).
    func tooLarge() -> [(section: String, key: String, words: [String], json: String)] {
        var cases: [(String, String, [String], String)] = []
        func add<S: ConfigSection>(_: S.Type) {
            for s in S.settings {
                if let b = s.bounds {
                    let many = s.arity == .many
                    let count = many ? max(1, s.words(S()).count) : 1
                    for v in [b.upperBound + 1, Int.max] {
                        let list = [String(v)] + Array(repeating: "8", count: count - 1)
                        cases.append((S.name, s.key, list, many ? "[" + list.joined(separator: ", ") + "]" : list[0]))
                    }
                } else if s.kind == UInt64.kind {
                    // Seeds take every 64-bit value; one more is not a seed.
                    cases.append((S.name, s.key, ["18446744073709551616"], "18446744073709551616"))
                } else {
                    XCTAssertFalse(
                        s.kind.contains("whole number"), "\(S.name).\(s.key) is a whole number without a range")
                }
            }
        }
        add(BalanceConfig.self); add(TrainConfig.self); add(GenerateConfig.self); add(AugmentConfig.self)
        add(InpaintConfig.self); add(ReportConfig.self); add(DemoConfig.self); add(SynthesizeConfig.self)
        add(SplitConfig.self); add(EvaluateConfig.self)
        return cases
    }

    func testWholeNumbersPastTheirBoundsAreRefusedEverywhere() throws {
        let root = try makeTempDir(self)
        let cases = tooLarge()
        XCTAssertGreaterThan(cases.count, 40)
        func expect(_ r: (status: Int32, out: String, err: String), _ names: [String], _ what: String) {
            XCTAssertEqual(r.status, 2, "\(what): \(r.err)")
            for n in names { XCTAssertTrue(r.err.contains(n), "\(what): '\(r.err)' does not name \(n)") }
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(what): \(r.err)")
        }
        for c in cases {
            let what = "\(c.section).\(c.key) = \(c.words.joined(separator: " "))"
            // A flag.
            expect(
                try runRivers(commandOf[c.section]! + ["--\(c.key)"] + c.words, in: root), ["--\(c.key)"],
                "flag " + what)
            // A --config file.
            let file = root + "/c.json"
            writeFile(file, Data(#"{"\#(c.section)": {"\#(c.key)": \#(c.json)}}"#.utf8))
            expect(
                try runRivers(commandOf[c.section]! + ["--config", file], in: root), [file, "\(c.section).\(c.key)"],
                "config " + what)
            // A run's config.json, read by infer and by a resume.
            guard c.section == "train" else { continue }
            let run = root + "/L1_run"
            try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
            var record =
                try JSONSerialization.jsonObject(
                    with: JSONEncoder().encode(RunRecord(label: 1, inDir: root, train: TrainConfig())))
                as! [String: Any]
            var train = record["train"] as! [String: Any]
            train[c.key] = try JSONSerialization.jsonObject(with: Data(c.json.utf8), options: .fragmentsAllowed)
            record["train"] = train
            try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: run + "/config.json"))
            for words in [["infer", "--model_dir", run], ["train", "--load_and_train", "--model_dir", run]] {
                expect(
                    try runRivers(words, in: root), [run + "/config.json", "train.\(c.key)"],
                    "\(words[0]) config.json " + what)
            }
        }
        XCTAssertEqual(listing(root).filter { !$0.hasPrefix("L1_run") && $0 != "c.json" }, [], "nothing written")
    }

    func testHelpOfEveryCommandShowsRangesAndDefaults() throws {
        let r = try runRivers(["infer", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(
            oneLine(r.out).contains(
                "--generate_diffusion_steps N sampler steps (network passes) of each generated image (1 to 10000; default: 10)"
            ), r.out)
        let a = try runRivers(["augment", "-h"])
        let help = oneLine(a.out)
        XCTAssertTrue(help.contains("(1 to 10000; default: 15)"), a.out)
        XCTAssertTrue(help.contains("(ddim or dpmpp2m; default: dpmpp2m)"), a.out)
        XCTAssertTrue(help.contains("--strength S...") && help.contains("default: 1 0.6)"), a.out)
        let unknown = try runRivers(["help", "trian"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.err.contains("did you mean 'train'?"), unknown.err)
    }
}
