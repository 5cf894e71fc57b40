// Keras' Conv2DTranspose (stride 2, "same"): each of its passes is a pass of Conv2D.
import Foundation

/// The transposed convolution of Keras' Conv2DTranspose(stride 2, "same"): input [N, H, W, Cin],
/// output exactly [N, 2H, 2W, Cout], kernel [3, 3, Cout, Cin] (Keras' layout). It is the
/// backward-input pass of the stride-2 convolution that maps 2H x 2W x Cout to H x W x Cin,
/// so each of its passes is one of that convolution's.
public enum ConvTranspose2D {
    /// The convolution this is the transpose of.
    public static func geometry(
        batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int = 3, stride: Int = 2
    ) -> ConvGeometry {
        let g = ConvGeometry(
            batch: batch, height: height * stride, width: width * stride, inChannels: outChannels,
            outChannels: inChannels, kernel: kernel, stride: stride)
        precondition(g.outHeight == height && g.outWidth == width)
        return g
    }

    /// out[N, 2H, 2W, Cout] = convT(input[N, H, W, Cin], weight[3, 3, Cout, Cin]) + bias[Cout].
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, scratch: ConvScratch
    ) {
        Conv2D.transposed(out, input, weight, g, bias: bias, scratch: scratch, accumulate: false)
    }

    /// dinput[N, H, W, Cin] += the stride-2 convolution of dout[N, 2H, 2W, Cout].
    public static func backwardInput(
        _ dinput: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        _ g: ConvGeometry, scratch: ConvScratch
    ) {
        Conv2D.forward(dinput, dout, weight, nil, g, scratch: scratch, accumulate: true)
    }

    /// dweight[3, 3, Cout, Cin] += ..., dbias[Cout] += sum of dout.
    public static func backwardWeights(
        _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
        _ input: UnsafePointer<Float>, _ dout: UnsafePointer<Float>, _ g: ConvGeometry,
        scratch: ConvScratch
    ) {
        Conv2D.backwardWeights(dweight, nil, dout, input, g, scratch: scratch)
        if let dbias {
            Elementwise.columnSums(
                dbias, dout, rows: g.batch * g.height * g.width, columns: g.inChannels,
                partial: scratch.padded.elements(16 * g.inChannels))
        }
    }
}
