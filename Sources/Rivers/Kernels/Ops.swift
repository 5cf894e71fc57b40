// Shape-checked, allocating tensor-level entry points over the pointer kernels (tests and tools).
import Foundation

/// Shape-checked tensor-level entry points over the pointer kernels.
public enum Ops {
    /// conv2d(x [N, H, W, Cin], weight [k, k, Cin, Cout], bias [Cout]?) with "same" padding.
    public static func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1) -> Tensor {
        let (n, h, w, c) = x.nhwc
        precondition(
            weight.shape.count == 4 && weight.shape[0] == weight.shape[1] && weight.shape[2] == c,
            "conv2d: weight shape \(weight.shape) does not fit input \(x.shape)")
        let g = ConvGeometry(
            batch: n, height: h, width: w, inChannels: c, outChannels: weight.shape[3], kernel: weight.shape[0],
            stride: stride)
        bias?.expect([g.outChannels], "conv2d bias")
        let y = Tensor(shape: [n, g.outHeight, g.outWidth, g.outChannels])
        Conv2D.forward(
            y.pointer, x.pointer, weight.pointer, bias.map { UnsafePointer($0.pointer) }, g, scratch: ConvScratch())
        return y
    }

    /// Keras Conv2DTranspose(3, stride 2, "same"): x [N, H, W, Cin], weight [3, 3, Cout, Cin] -> [N, 2H, 2W, Cout].
    public static func convTranspose2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        let (n, h, w, c) = x.nhwc
        precondition(
            weight.shape.count == 4 && weight.shape[0] == 3 && weight.shape[1] == 3 && weight.shape[3] == c,
            "convTranspose2d: weight shape \(weight.shape) does not fit input \(x.shape)")
        let g = ConvTranspose2D.geometry(batch: n, height: h, width: w, inChannels: c, outChannels: weight.shape[2])
        bias?.expect([weight.shape[2]], "convTranspose2d bias")
        let y = Tensor(shape: [n, 2 * h, 2 * w, weight.shape[2]])
        ConvTranspose2D.forward(
            y.pointer, x.pointer, weight.pointer, bias.map { UnsafePointer($0.pointer) }, g, scratch: ConvScratch())
        return y
    }

    /// GroupNorm over x [N, H, W, C] with gamma, beta [C].
    public static func groupNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, groups: Int = 8, epsilon: Float = 1e-3)
        -> Tensor
    {
        let (n, h, w, c) = x.nhwc
        precondition(c % groups == 0, "groupNorm: \(c) channels do not divide into \(groups) groups")
        gamma.expect([c], "groupNorm gamma")
        beta.expect([c], "groupNorm beta")
        let y = Tensor(shape: x.shape), mean = Tensor(shape: [n, groups]), rstd = Tensor(shape: [n, groups])
        GroupNorm.forward(
            y.pointer, mean.pointer, rstd.pointer, x.pointer, gamma.pointer, beta.pointer,
            GroupNormShape(N: n, HW: h * w, C: c, groups: groups, epsilon: epsilon), scratch: GroupNormScratch())
        return y
    }

    /// swish(x) = x sigmoid(x), any shape.
    public static func swish(_ x: Tensor) -> Tensor {
        let y = Tensor(shape: x.shape)
        Elementwise.swishForward(y.pointer, x.pointer, x.count)
        return y
    }

    /// Channel concat of two NHWC tensors of the same N, H, W.
    public static func concatChannels(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (n, h, w, ca) = a.nhwc, (nb, hb, wb, cb) = b.nhwc
        precondition(n == nb && h == hb && w == wb, "concatChannels: \(a.shape) and \(b.shape) differ in N, H or W")
        let y = Tensor(shape: [n, h, w, ca + cb])
        Elementwise.concatChannels(y.pointer, a.pointer, ca, b.pointer, cb, pixels: n * h * w)
        return y
    }
}
