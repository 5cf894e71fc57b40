// The engine's tensor: NHWC (or any rank) Float32, contiguous, shape-checked at entry points.
import Foundation

/// A contiguous Float32 tensor. Images are NHWC: [batch, height, width, channels].
/// Copies share storage (a reference); kernels write through `pointer`.
public struct Tensor: CustomStringConvertible {
    public let shape: [Int]
    public let storage: FloatBuffer

    /// Zeros of the given shape.
    public init(shape: [Int]) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "tensor shape \(shape) must have positive dimensions")
        self.shape = shape
        storage = FloatBuffer(count: shape.reduce(1, *))
    }

    /// The given values, in row-major order.
    public init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape) (\(count) expected)")
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    public var count: Int { shape.reduce(1, *) }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    public var description: String { "Tensor\(shape)" }

    /// The NHWC dimensions of a rank-4 tensor.
    public var nhwc: (n: Int, h: Int, w: Int, c: Int) {
        precondition(shape.count == 4, "expected an NHWC tensor, got shape \(shape)")
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// Checks the shape, naming the operation and argument in the failure.
    public func expect(_ expected: [Int], _ what: @autoclosure () -> String) {
        precondition(shape == expected, "\(what()): shape \(shape), expected \(expected)")
    }

    /// Standard normal values from the given generator.
    public static func normal(shape: [Int], using rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t.pointer[i] = rng.normal() * scale }
        return t
    }
}

/// Shape-checked tensor-level entry points over the pointer kernels.
public enum Ops {
    /// conv2d(x [N, H, W, Cin], weight [k, k, Cin, Cout], bias [Cout]?) with "same" padding.
    public static func conv2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, stride: Int = 1, scratch: ConvScratch = ConvScratch()) -> Tensor {
        let (n, h, w, c) = x.nhwc
        precondition(weight.shape.count == 4 && weight.shape[0] == weight.shape[1] && weight.shape[2] == c,
                     "conv2d: weight shape \(weight.shape) does not fit input \(x.shape)")
        let g = ConvGeometry(batch: n, height: h, width: w, inChannels: c, outChannels: weight.shape[3], kernel: weight.shape[0], stride: stride)
        bias?.expect([g.outChannels], "conv2d bias")
        let y = Tensor(shape: [n, g.outHeight, g.outWidth, g.outChannels])
        Conv2D.forward(y.pointer, x.pointer, weight.pointer, bias.map { UnsafePointer($0.pointer) }, g, scratch: scratch)
        return y
    }

    /// Keras Conv2DTranspose(3, stride 2, "same"): x [N, H, W, Cin], weight [3, 3, Cout, Cin] -> [N, 2H, 2W, Cout].
    public static func convTranspose2d(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, scratch: ConvScratch = ConvScratch()) -> Tensor {
        let (n, h, w, c) = x.nhwc
        precondition(weight.shape.count == 4 && weight.shape[0] == 3 && weight.shape[1] == 3 && weight.shape[3] == c,
                     "convTranspose2d: weight shape \(weight.shape) does not fit input \(x.shape)")
        let g = ConvTranspose2D.geometry(batch: n, height: h, width: w, inChannels: c, outChannels: weight.shape[2])
        bias?.expect([weight.shape[2]], "convTranspose2d bias")
        let y = Tensor(shape: [n, 2 * h, 2 * w, weight.shape[2]])
        ConvTranspose2D.forward(y.pointer, x.pointer, weight.pointer, bias.map { UnsafePointer($0.pointer) }, g, scratch: scratch)
        return y
    }

    /// GroupNorm over x [N, H, W, C] with gamma, beta [C].
    public static func groupNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, groups: Int = 8, epsilon: Float = 1e-3) -> Tensor {
        let (n, h, w, c) = x.nhwc
        precondition(c % groups == 0, "groupNorm: \(c) channels do not divide into \(groups) groups")
        gamma.expect([c], "groupNorm gamma")
        beta.expect([c], "groupNorm beta")
        let y = Tensor(shape: x.shape), mean = Tensor(shape: [n, groups]), rstd = Tensor(shape: [n, groups])
        GroupNorm.forward(y.pointer, mean.pointer, rstd.pointer, x.pointer, gamma.pointer, beta.pointer, N: n, HW: h * w, C: c, groups: groups, epsilon: epsilon)
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
