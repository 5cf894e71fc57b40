// rivers-bench export-reference: rivers' own forward pass on a fixed input for an export, so that
// another implementation of the network (docs/load_export.py, PyTorch) can be checked against it.
import Foundation
import Rivers
import RiversCLI

struct ExportReferenceOptions: SettingGroup {
    var export = ""
    var out = ""
    var batch = 2
    static let name = "rivers-bench"
    static let settings: [Setting<ExportReferenceOptions>] = [
        Setting("export", "a file of rivers export", \.export, placeholder: "FILE", range: .nonEmpty),
        Setting(
            "out", "the reference to write (never overwritten): input, variances, output", \.out, placeholder: "FILE",
            range: .nonEmpty),
        Setting("batch_size", "images of the input", \.batch, range: .within(1...64)),
    ]
}

/// Writes `input` [N, H, W, 3] (seeded normal values), `variances` [N] and `output` [N, H, W, 3]
/// (the predicted noise, as generation computes it) to a safetensors file.
func benchExportReference(_ args: ParsedArguments) throws -> [String: Any] {
    let options = try args.resolve(ExportReferenceOptions())
    let loaded = try Export.read(options.export)
    let (images, variances) = loaded.referenceInput(batch: options.batch)
    let output = try loaded.predictNoise(images: images, variances: variances)
    let shape = [options.batch, loaded.height, loaded.width, 3]
    let data = try images.withUnsafeBufferPointer { i in
        try variances.withUnsafeBufferPointer { v in
            try output.withUnsafeBufferPointer { o in
                try SafeTensors.encode(
                    [
                        .init(name: "input", shape: shape, pointer: i.baseAddress!),
                        .init(name: "variances", shape: [options.batch], pointer: v.baseAddress!),
                        .init(name: "output", shape: shape, pointer: o.baseAddress!),
                    ],
                    metadata: [
                        "format": "rivers-forward-reference-1", "export": options.export,
                        "layout": "NHWC; output: the predicted noise of one inference forward pass",
                    ])
            }
        }
    }
    try FileOps.writeNew(data, to: options.out)
    print(
        "reference of \(options.export): \(options.batch) inputs of \(loaded.height)x\(loaded.width), variances \(variances.map { String(format: "%.2f", $0) }.joined(separator: " ")), written to \(options.out)"
    )
    return ["out": options.out, "batch": options.batch, "height": loaded.height, "width": loaded.width]
}
