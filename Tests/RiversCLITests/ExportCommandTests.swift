// `rivers export`: a weights-only safetensors file of a run's EMA weights, normalizer and
// settings, that never replaces a file; and the forward pass of an export read back.
import Foundation
import XCTest
import Rivers
import RiversTestSupport

final class ExportCommandTests: XCTestCase {
    func testExportHoldsTheEMAWeightsAndSettingsAndNeverOverwrites() throws {
        let root = try makeTempDir(self)
        try writeTrainingImages(root + "/L2", count: 4)
        let trained = try runRivers([
            "train", "--in_dir", root + "/L2", "--out_dir", root + "/models", "--image_size", "8", "16", "--widths",
            "8", "16", "--block_depth", "1", "--embedding_dims", "8", "--batch_size", "2", "--num_epochs", "2",
            "--images_to_generate", "0", "--quiet",
        ])
        XCTAssertEqual(trained.status, 0, trained.err)
        let run = root + "/models/" + (try XCTUnwrap(listing(root + "/models").first { !$0.contains("/") }))
        let out = root + "/exports/model.safetensors"

        let dry = try runRivers(["export", "--model_dir", run, "--out", out, "--dry_run"])
        XCTAssertEqual(dry.status, 0, dry.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a dry run writes nothing")

        let r = try runRivers(["export", "--model_dir", run, "--out", out, "--checkpoint", "last"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("exported"), r.out)
        let file = try SafeTensors.read(out)
        let checkpoint = try SafeTensors.read(run + "/last.safetensors")
        let layout = try UNet(try RunDirectory(run).record().train.network).layout
        XCTAssertEqual(
            file.tensors.keys.sorted(),
            (layout.params.map(\.name) + ["normalizer/mean", "normalizer/variance"]).sorted())
        for p in layout.params {
            XCTAssertEqual(file.tensors[p.name]!.shape, p.shape, p.name)
            XCTAssertEqual(file.tensors[p.name]!.values, checkpoint.tensors["ema/\(p.name)"]!.values, "EMA: \(p.name)")
        }
        for name in ["normalizer/mean", "normalizer/variance"] {
            XCTAssertEqual(file.tensors[name]!.values, checkpoint.tensors[name]!.values)
        }
        // Metadata: format, label, epoch and step of the checkpoint, and the run's train section.
        XCTAssertEqual(file.metadata["format"], "rivers-export-1")
        XCTAssertEqual(file.metadata["label"], "2")
        XCTAssertEqual(file.metadata["epoch"], "2")
        XCTAssertEqual(file.metadata["step"], checkpoint.metadata["step"])
        XCTAssertEqual(file.metadata["checkpoint"], "last")
        let config = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(file.metadata["config"]).utf8)) as? NSDictionary)
        let runConfig = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json")))
                as? [String: Any])
        XCTAssertEqual(config, runConfig["train"] as? NSDictionary, "the train section of config.json")
        // Weights only: a quarter of the checkpoint (which also holds weights, adam_m, adam_v).
        let size = { (p: String) in try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int }
        XCTAssertLessThan(Double(try size(out)), 0.3 * Double(try size(run + "/last.safetensors")))
        XCTAssertEqual(listing(root + "/exports"), ["model.safetensors"], "no temporary file is left")

        // Never overwritten: a second export, or one onto any other file, is refused in one line.
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let again = try runRivers(["export", "--model_dir", run, "--out", out])
        XCTAssertEqual(again.status, 1, again.err)
        XCTAssertTrue(again.err.contains("\(out): already exists"), again.err)
        XCTAssertEqual(again.err.split(separator: "\n").count, 1, again.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before)
        let dryAgain = try runRivers(["export", "--model_dir", run, "--out", out, "--dry_run"])
        XCTAssertEqual(dryAgain.status, 1, "a dry run fails as the run would")

        // Read back, the export computes what the run's model computes.
        let loaded = try Export.read(out)
        XCTAssertEqual([loaded.label, loaded.epoch], [2, 2])
        let model = try TrainedModel(run: run, checkpoint: "last")
        let predictor = try model.predictor(batch: 2)
        let (images, _) = loaded.referenceInput(batch: 2)
        var expected = [Float](repeating: 0, count: images.count)
        predictor.predictNoise(&expected, images, variance: 0.3)
        XCTAssertEqual(try loaded.predictNoise(images: images, variances: [0.3, 0.3]), expected)
        // Not an export: one line naming the file.
        assertFileError(
            try Export.read(run + "/last.safetensors"), path: run + "/last.safetensors", reason: "not a rivers export")
    }
}
