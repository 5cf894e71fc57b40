// The parameter slab: weights, gradients, both AdamW moments and the EMA copy in five flat
// buffers of one layout, each parameter a named view (llm.c's pattern), so that zeroing,
// AdamW, EMA, checkpoints and a gradient all-reduce are each one loop over a buffer.
import Foundation

/// How a parameter starts (Keras' initialisers).
public enum Initializer: Equatable, Sendable {
    case zeros, ones
    /// Truncated normal (cut at 2 standard deviations) with variance 2 / fanIn: Keras' HeNormal.
    case heNormal(fanIn: Int)
    /// Uniform in +-sqrt(6 / (fanIn + fanOut)): Keras' GlorotUniform.
    case glorotUniform(fanIn: Int, fanOut: Int)
}

/// One named parameter: its place in every slab buffer.
public struct Param: Equatable, Sendable {
    public let name: String
    public let offset: Int
    public let shape: [Int]
    public let initializer: Initializer
    public var count: Int { shape.reduce(1, *) }
}

/// The list of parameters, in order, as a network declares them.
public struct ParameterLayout: Sendable {
    public private(set) var params: [Param] = []
    public private(set) var count = 0

    public init() {}

    /// Declares a parameter and returns its view. Names must be unique.
    public mutating func add(_ name: String, _ shape: [Int], _ initializer: Initializer) -> Param {
        precondition(!params.contains { $0.name == name }, "parameter \(name) declared twice")
        let p = Param(name: name, offset: count, shape: shape, initializer: initializer)
        params.append(p)
        count += p.count
        return p
    }
}

/// The five buffers of one layout. `values` are the trained weights, `ema` their moving
/// average (what inference uses), `grads` the gradients of one step, `adamM` and `adamV`
/// the optimizer's moments.
public final class ParameterSlab: @unchecked Sendable {
    public let layout: ParameterLayout
    public let values, grads, adamM, adamV, ema: FloatBuffer

    public init(layout: ParameterLayout) {
        self.layout = layout
        values = FloatBuffer(count: layout.count)
        grads = FloatBuffer(count: layout.count)
        adamM = FloatBuffer(count: layout.count)
        adamV = FloatBuffer(count: layout.count)
        ema = FloatBuffer(count: layout.count)
    }

    public var count: Int { layout.count }

    /// The buffers by their checkpoint names, in a fixed order.
    public var buffers: [(name: String, buffer: FloatBuffer)] {
        [("values", values), ("ema", ema), ("adam_m", adamM), ("adam_v", adamV)]
    }

    /// Fills `values` by each parameter's initializer, and copies them to `ema`; the moments
    /// and gradients are zero.
    public func initialize(using rng: inout SeededGenerator) {
        for p in layout.params {
            let v = values.pointer + p.offset
            switch p.initializer {
            case .zeros: v.update(repeating: 0, count: p.count)
            case .ones: v.update(repeating: 1, count: p.count)
            case .heNormal(let fanIn):
                // Keras divides by 0.8796..., the standard deviation of a unit normal cut at +-2.
                let sd = Float((2.0 / Double(fanIn)).squareRoot() / 0.879_625_661_034_239_78)
                for i in 0..<p.count {
                    var z = rng.normal()
                    while abs(z) > 2 { z = rng.normal() }
                    v[i] = z * sd
                }
            case .glorotUniform(let fanIn, let fanOut):
                let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
                for i in 0..<p.count { v[i] = (rng.uniform() * 2 - 1) * limit }
            }
        }
        ema.pointer.update(from: values.pointer, count: count)
        for b in [grads, adamM, adamV] { b.pointer.update(repeating: 0, count: count) }
    }

    public func zeroGradients() { grads.pointer.update(repeating: 0, count: count) }

    /// A parameter's view as a tensor of `buffer`.
    public func tensor(_ p: Param, of buffer: FloatBuffer) -> Tensor {
        Tensor(viewOf: buffer, offset: p.offset, shape: p.shape)
    }

    /// The parameter called `name`.
    public func param(_ name: String) -> Param? { layout.params.first { $0.name == name } }
}
