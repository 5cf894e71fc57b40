// Conv2D's naive twins: direct loops in Double over the definition, for the tests to compare against.
import Foundation

extension Conv2D {
    public static func forwardNaive(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry
    ) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for co in 0..<Cout {
                        var acc = Double(bias?[co] ?? 0)
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
                                if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                                for ci in 0..<Cin {
                                    acc +=
                                        Double(input[((n * H + iy) * W + ix) * Cin + ci])
                                        * Double(weight[((ky * k + kx) * Cin + ci) * Cout + co])
                                }
                            }
                        }
                        out[((n * g.outHeight + oy) * g.outWidth + ox) * Cout + co] = Float(acc)
                    }
                }
            }
        }
    }

    public static func backwardInputNaive(
        _ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ g: ConvGeometry
    ) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        var acc = [Double](repeating: 0, count: g.inputCount)
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
                            if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                            for ci in 0..<Cin {
                                for co in 0..<Cout {
                                    acc[((n * H + iy) * W + ix) * Cin + ci] +=
                                        Double(dout[((n * g.outHeight + oy) * g.outWidth + ox) * Cout + co])
                                        * Double(weight[((ky * k + kx) * Cin + ci) * Cout + co])
                                }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<acc.count { dinput[i] = Float(acc[i]) }
    }

    public static func backwardWeightsNaive(
        _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
        _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry
    ) {
        let (H, W, Cin, Cout, k, s) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride)
        var acc = [Double](repeating: 0, count: g.weightCount)
        var bacc = [Double](repeating: 0, count: Cout)
        for n in 0..<g.batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    let o = ((n * g.outHeight + oy) * g.outWidth + ox) * Cout
                    for co in 0..<Cout { bacc[co] += Double(dout[o + co]) }
                    for ky in 0..<k {
                        for kx in 0..<k {
                            let iy = oy * s + ky - g.padTop, ix = ox * s + kx - g.padLeft
                            if iy < 0 || iy >= H || ix < 0 || ix >= W { continue }
                            for ci in 0..<Cin {
                                for co in 0..<Cout {
                                    acc[((ky * k + kx) * Cin + ci) * Cout + co] +=
                                        Double(input[((n * H + iy) * W + ix) * Cin + ci]) * Double(dout[o + co])
                                }
                            }
                        }
                    }
                }
            }
        }
        for i in 0..<acc.count { dweight[i] = Float(acc[i]) }
        if let dbias { for co in 0..<Cout { dbias[co] = Float(bacc[co]) } }
    }
}
