// Elementwise kernels: swish, add, channel concat/split, mean absolute error.
// Each parallel over contiguous chunks (results do not depend on the split).
import Foundation

public enum Elementwise {
    /// Chunks of at least this many floats per thread, so small tensors stay on one thread.
    static let grain = 1 << 15

    /// out = x * sigmoid(x), `count` values (out may be x).
    public static func swishForward(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        Parallel.forChunks(count, minimumChunk: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = x.simd8(at: i)
                out.storeSIMD8(v * FastMath.sigmoid(v), at: i)
                i += 8
            }
            while i < r.upperBound { out[i] = x[i] * FastMath.sigmoid(x[i]); i += 1 }
        }
    }

    /// dx += dout * d swish / dx = dout * s (1 + x (1 - s)), s = sigmoid(x).
    public static func swishBackward(
        _ dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int
    ) {
        Parallel.forChunks(count, minimumChunk: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = x.simd8(at: i)
                let g = dout.simd8(at: i)
                let d = FastMath.swishDerivative(v, times: g) + dx.simd8(at: i)
                dx.storeSIMD8(d, at: i)
                i += 8
            }
            while i < r.upperBound {
                dx[i] += FastMath.swishDerivative(x[i], times: dout[i])
                i += 1
            }
        }
    }

    /// out = a + b (out may alias either). The backward pass of an add is the identity.
    public static func add(
        _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int
    ) {
        Parallel.forChunks(count, minimumChunk: grain) { r in
            for i in r { out[i] = a[i] + b[i] }
        }
    }

    /// out[p, 0..<Ca] = a[p], out[p, Ca..<Ca+Cb] = b[p] for `pixels` pixels (NHWC channel concat).
    public static func concatChannels(
        _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ ca: Int,
        _ b: UnsafePointer<Float>, _ cb: Int, pixels: Int
    ) {
        let c = ca + cb
        Parallel.forChunks(pixels, minimumChunk: grain / max(c, 1)) { r in
            for p in r {
                (out + p * c).update(from: a + p * ca, count: ca)
                (out + p * c + ca).update(from: b + p * cb, count: cb)
            }
        }
    }

    /// The backward pass of `concatChannels`: da += dout[:, :Ca], db += dout[:, Ca:].
    public static func splitChannels(
        _ da: UnsafeMutablePointer<Float>, _ ca: Int, _ db: UnsafeMutablePointer<Float>, _ cb: Int,
        _ dout: UnsafePointer<Float>, pixels: Int
    ) {
        let c = ca + cb
        Parallel.forChunks(pixels, minimumChunk: grain / max(c, 1)) { r in
            for p in r {
                for j in 0..<ca { da[p * ca + j] += dout[p * c + j] }
                for j in 0..<cb { db[p * cb + j] += dout[p * c + ca + j] }
            }
        }
    }

    /// sums[c] += sum over rows r of x[r * C + c]: the gradient of a bias. Rows are cut into a
    /// fixed number of chunks summed in parallel, then added in order (deterministic).
    /// `partial` needs 16 * C floats.
    public static func columnSums(
        _ sums: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, columns C: Int,
        partial: UnsafeMutablePointer<Float>
    ) {
        let chunks = max(1, min(16, rows / 1024))
        Parallel.forEach(chunks) { k in
            let acc = partial + k * C
            acc.initialize(repeating: 0, count: C)
            for r in (rows * k / chunks)..<(rows * (k + 1) / chunks) {
                let row = x + r * C
                for c in 0..<C { acc[c] += row[c] }
            }
        }
        for c in 0..<C {
            var s: Float = sums[c]
            for k in 0..<chunks { s += partial[k * C + c] }
            sums[c] = s
        }
    }

    /// mean |prediction - target| over `count` values, summed in Double.
    public static func meanAbsoluteError(
        _ prediction: UnsafePointer<Float>, _ target: UnsafePointer<Float>, _ count: Int
    ) -> Float {
        var s = 0.0
        for i in 0..<count { s += Double(abs(prediction[i] - target[i])) }
        return Float(s / Double(max(count, 1)))
    }

    /// dprediction += d MAE / d prediction = sign(prediction - target) / count (0 where equal, as TF).
    public static func meanAbsoluteErrorBackward(
        _ dprediction: UnsafeMutablePointer<Float>, _ prediction: UnsafePointer<Float>,
        _ target: UnsafePointer<Float>, _ count: Int
    ) {
        let scale = 1 / Float(max(count, 1))
        for i in 0..<count {
            let d = prediction[i] - target[i]
            dprediction[i] += d > 0 ? scale : (d < 0 ? -scale : 0)
        }
    }
}
