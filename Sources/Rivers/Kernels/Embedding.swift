// The noise embedding: sinusoidal features of each image's noise variance.
import Foundation

public enum NoiseEmbedding {
    /// emb[n, 0..<E/2] = sin(2 pi f_k v_n), emb[n, E/2..<E] = cos(2 pi f_k v_n), with
    /// f_k = exp(linspace(ln 1, ln 1000, E/2)) and v_n the image's noise variance.
    public static func forward(_ emb: UnsafeMutablePointer<Float>, variances: UnsafePointer<Float>, N: Int, dims E: Int)
    {
        precondition(E % 2 == 0 && E >= 2, "embedding dimensions must be even")
        let half = E / 2
        for n in 0..<N {
            let v = Double(variances[n])
            for k in 0..<half {
                let f = Foundation.exp(Foundation.log(1000.0) * (half > 1 ? Double(k) / Double(half - 1) : 0))
                let angle = 2 * Double.pi * f * v
                emb[n * E + k] = Float(sin(angle))
                emb[n * E + half + k] = Float(cos(angle))
            }
        }
    }
}
