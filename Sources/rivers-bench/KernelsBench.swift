// `rivers-bench peak` and `rivers-bench kernels`: the FMA peak, and each convolution pass of
// the U-Net's real shapes as GFLOP/s and percent of that peak, measured in the same process.
import Foundation
import Rivers
import RiversCLI
import RiversCPU

/// The best of `repeats` timings of `body`, after one warm-up call.
func bestSeconds(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

func benchPeak(_ args: ParsedArguments) throws -> [String: Any] {
    let all = Peak.measureGFLOPS(threads: Parallel.threadCount), one = Peak.measureGFLOPS(threads: 1)
    let all512 = Peak.measure512GFLOPS(threads: Parallel.threadCount), one512 = Peak.measure512GFLOPS(threads: 1)
    print(KernelPath.summary())
    print(
        table([
            ["threads", "256-bit FMA peak (GFLOP/s)", "512-bit FMA peak (GFLOP/s)"],
            [String(Parallel.threadCount), fmt(all, 1), all512.map { fmt($0, 1) } ?? "no AVX-512"],
            ["1", fmt(one, 1), one512.map { fmt($0, 1) } ?? "no AVX-512"],
        ]))
    var result: [String: Any] = [
        "peak_gflops": all, "peak_gflops_1thread": one, "threads": Parallel.threadCount,
        "isa": KernelPath.current.rawValue,
    ]
    if let all512, let one512 { result["peak512_gflops"] = all512; result["peak512_gflops_1thread"] = one512 }
    return result
}

struct KernelCase {
    let name: String
    let geometry: ConvGeometry
    let transposed: Bool
}

/// The U-Net's convolution shapes at 64x192, batch 8 (default widths 64 96 128 256).
func unetKernelCases(batch: Int) -> [KernelCase] {
    func conv(_ name: String, _ h: Int, _ w: Int, _ cin: Int, _ cout: Int, k: Int = 3, s: Int = 1) -> KernelCase {
        KernelCase(
            name: name,
            geometry: ConvGeometry(
                batch: batch, height: h, width: w, inChannels: cin, outChannels: cout, kernel: k, stride: s),
            transposed: false)
    }
    func convT(_ name: String, _ h: Int, _ w: Int, _ cin: Int, _ cout: Int) -> KernelCase {
        KernelCase(
            name: name,
            geometry: ConvTranspose2D.geometry(batch: batch, height: h, width: w, inChannels: cin, outChannels: cout),
            transposed: true)
    }
    return [
        conv("conv3x3", 64, 192, 320, 64), conv("conv3x3", 64, 192, 64, 64), conv("conv3x3", 64, 192, 128, 64),
        conv("conv1x1", 64, 192, 320, 64, k: 1),
        conv("conv3x3 s2", 64, 192, 64, 64, s: 2), conv("conv3x3 s2", 32, 96, 96, 96, s: 2),
        conv("conv3x3 s2", 16, 48, 128, 128, s: 2),
        convT("convT3x3 s2", 8, 24, 256, 128), convT("convT3x3 s2", 16, 48, 128, 96),
        convT("convT3x3 s2", 32, 96, 96, 64),
        conv("conv3x3", 8, 24, 256, 256),
    ]
}

func benchKernels(_ args: ParsedArguments) throws -> [String: Any] {
    let peak = Peak.measurePathGFLOPS(threads: Parallel.threadCount)
    print("\(KernelPath.summary()); percentages of the \(Peak.pathWidth) FMA peak measured here")
    let repeats = try args.resolve(BenchOptions()).repeats
    let scratch = ConvScratch()
    var rows = [["kernel", "pass", "shape", "GFLOP/s", "% of peak", "seconds"]]
    var results: [[String: Any]] = []
    for c in unetKernelCases(batch: try args.resolve(BenchOptions()).batch) {
        let g = c.geometry
        let x = FloatBuffer(count: g.inputCount), y = FloatBuffer(count: g.outputCount),
            w = FloatBuffer(count: g.weightCount)
        let dx = FloatBuffer(count: g.inputCount), dy = FloatBuffer(count: g.outputCount),
            dw = FloatBuffer(count: g.weightCount)
        let bias = FloatBuffer(count: max(g.inChannels, g.outChannels)),
            dbias = FloatBuffer(count: max(g.inChannels, g.outChannels))
        var rng = SeededGenerator(seed: 1)
        for buffer in [x, w, dy, y] { for i in 0..<buffer.count { buffer.pointer[i] = rng.uniform() - 0.5 } }
        // A transposed convolution's passes are its convolution's passes with the roles swapped:
        // its input is the convolution's output (H x W) and its output the convolution's input.
        let label = c.transposed ? "\(g.batch)x\(g.outHeight)x\(g.outWidth)x\(g.outChannels)->\(g.inChannels)" : g.label
        let passes: [(String, () -> Void)] =
            c.transposed
            ? [
                (
                    "forward",
                    { ConvTranspose2D.forward(dx.pointer, y.pointer, w.pointer, bias.pointer, g, scratch: scratch) }
                ),
                (
                    "backward_input",
                    { ConvTranspose2D.backwardInput(dy.pointer, x.pointer, w.pointer, g, scratch: scratch) }
                ),
                (
                    "backward_weights",
                    {
                        ConvTranspose2D.backwardWeights(
                            dw.pointer, dbias.pointer, y.pointer, x.pointer, g, scratch: scratch)
                    }
                ),
            ]
            : [
                ("forward", { Conv2D.forward(y.pointer, x.pointer, w.pointer, bias.pointer, g, scratch: scratch) }),
                ("backward_input", { Conv2D.backwardInput(dx.pointer, dy.pointer, w.pointer, g, scratch: scratch) }),
                (
                    "backward_weights",
                    { Conv2D.backwardWeights(dw.pointer, dbias.pointer, x.pointer, dy.pointer, g, scratch: scratch) }
                ),
            ]
        for (pass, body) in passes {
            let seconds = bestSeconds(repeats: repeats, body)
            let gflops = g.flops / seconds / 1e9
            rows.append([c.name, pass, label, fmt(gflops, 1), fmt(100 * gflops / peak, 1), fmt(seconds, 4)])
            results.append([
                "name": c.name, "pass": pass, "shape": label, "gflops": gflops, "percent_of_peak": 100 * gflops / peak,
                "seconds": seconds,
            ])
        }
    }
    // Memory-bound kernels: effective bandwidth (each tensor read or written once; GroupNorm reads
    // its input twice) instead of FLOP/s, beside a plain copy of the same size.
    let batch = try args.resolve(BenchOptions()).batch
    let (HW, C, G) = (64 * 192, 64, 8)
    let count = batch * HW * C
    let a = FloatBuffer(count: count), b = FloatBuffer(count: count), c = FloatBuffer(count: count)
    let gamma = FloatBuffer(count: C), beta = FloatBuffer(count: C), dgamma = FloatBuffer(count: C),
        dbeta = FloatBuffer(count: C), mean = FloatBuffer(count: batch * G), rstd = FloatBuffer(count: batch * G)
    var rng = SeededGenerator(seed: 2)
    for i in 0..<count { a.pointer[i] = rng.normal(); b.pointer[i] = rng.normal() }
    for i in 0..<C { gamma.pointer[i] = 1 }
    let normScratch = GroupNormScratch()
    let normShape = GroupNormShape(N: batch, HW: HW, C: C, groups: G)
    let shape = "\(batch)x64x192x\(C)"
    var memoryRows = [["kernel", "pass", "shape", "GB/s", "seconds"]]
    var memoryResults: [[String: Any]] = []
    let memoryPasses: [(String, String, Double, () -> Void)] = [
        // The machine's memory bandwidth for the same tensor: a parallel copy, no arithmetic.
        (
            "copy", "reference", 2,
            {
                Parallel.forChunks(count, minimumChunk: 1 << 16) { r in
                    (c.pointer + r.lowerBound).update(from: a.pointer + r.lowerBound, count: r.count)
                }
            }
        ),
        ("swish", "forward", 2, { Elementwise.swishForward(c.pointer, a.pointer, count) }),
        ("swish", "backward", 3, { Elementwise.swishBackward(c.pointer, b.pointer, a.pointer, count) }),
        (
            "groupnorm", "forward", 2,
            {
                GroupNorm.forward(
                    c.pointer, mean.pointer, rstd.pointer, a.pointer, gamma.pointer, beta.pointer, normShape,
                    scratch: normScratch)
            }
        ),
        (
            "groupnorm", "backward", 3,
            {
                GroupNorm.backward(
                    c.pointer, dgamma.pointer, dbeta.pointer, b.pointer, a.pointer, mean.pointer, rstd.pointer,
                    gamma.pointer, beta.pointer, normShape, scratch: normScratch)
            }
        ),
    ]
    for (name, pass, tensors, body) in memoryPasses {
        let seconds = bestSeconds(repeats: repeats, body)
        let gbs = tensors * Double(count) * 4 / seconds / 1e9
        memoryRows.append([name, pass, shape, fmt(gbs, 1), fmt(seconds, 4)])
        memoryResults.append(["name": name, "pass": pass, "shape": shape, "gbytes_per_second": gbs, "seconds": seconds])
    }
    // Measured again at the end: on a shared machine the two differ when the load changed.
    let peakEnd = Peak.measurePathGFLOPS(threads: Parallel.threadCount)
    let rss = ResourceUsage.peakResidentBytes()
    print(
        "\(Peak.pathWidth) FMA peak measured in this run: \(fmt(peak, 1)) GFLOP/s on \(counted(Parallel.threadCount, "thread")) before the kernels, \(fmt(peakEnd, 1)) after (percentages use the first)"
    )
    print(
        "GFLOP/s count the direct convolution's FLOPs; stride-1 3x3 convolutions run Winograd F(2x2,3x3) (2.25x fewer multiplies) and can exceed 100% of the peak"
    )
    print(table(rows))
    print("")
    print(table(memoryRows))
    print("peak resident memory: \(fmt(Double(rss) / 1048576, 1)) MiB")
    return [
        "peak_gflops": peak, "peak_gflops_end": peakEnd, "kernels": results, "memory_bound": memoryResults,
        "peak_rss_bytes": rss, "threads": Parallel.threadCount, "isa": KernelPath.current.rawValue,
    ]
}
