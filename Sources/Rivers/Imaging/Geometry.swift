// Image geometry: flip, rotate-zoom-crop in one resampling, resizes, aspect-ratio crop.
import Foundation

public enum Geometry {
    /// Mirrors left to right.
    public static func flipHorizontal(_ image: Image) -> Image {
        let w = image.width, h = image.height
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w * 3
                    for x in 0..<w {
                        let s = row + (w - 1 - x) * 3, d = row + x * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return Image(width: w, height: h, pixels: out)
    }

    /// Rotates about the center by `degrees` (positive = counter-clockwise on screen, as
    /// OpenCV's getRotationMatrix2D), scales by `zoom` and keeps the original-size center:
    /// one bilinear resampling through the combined affine map, evaluated only at output
    /// pixels. With `flipFirst`, the image is mirrored left to right before rotating.
    /// Samples that fall outside the source (a zoom too small for the angle) repeat the edge.
    ///
    /// For an output pixel p with d = p - c (c the center, y down), the source is
    /// c + R(d) / zoom with R = [[cos, -sin], [sin, cos]]: the inverse of OpenCV's forward map.
    public static func rotateZoomCrop(_ image: Image, degrees: Double, zoom: Double, flipFirst: Bool = false) -> Image {
        precondition(zoom > 0, "zoom must be positive")
        let w = image.width, h = image.height
        let theta = degrees * .pi / 180
        let cs = cos(theta) / zoom, sn = sin(theta) / zoom
        let cx = Double(w - 1) / 2, cy = Double(h - 1) / 2
        var out = [UInt8](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let maxX = Float(w - 1), maxY = Float(h - 1)
                for y in 0..<h {
                    let dy = Double(y) - cy
                    // Source coordinates move by (cs, sn) per output column.
                    var sx = cx + cs * (-cx) - sn * dy
                    var sy = cy + sn * (-cx) + cs * dy
                    for x in 0..<w {
                        var fx = Float(flipFirst ? (Double(w - 1) - sx) : sx)
                        var fy = Float(sy)
                        fx = min(max(fx, 0), maxX)
                        fy = min(max(fy, 0), maxY)
                        let x0 = Int(fx), y0 = Int(fy)
                        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        let ax = fx - Float(x0), ay = fy - Float(y0)
                        let p00 = (y0 * w + x0) * 3, p01 = (y0 * w + x1) * 3
                        let p10 = (y1 * w + x0) * 3, p11 = (y1 * w + x1) * 3
                        let d = (y * w + x) * 3
                        for c in 0..<3 {
                            let top = Float(src[p00 + c]) + ax * (Float(src[p01 + c]) - Float(src[p00 + c]))
                            let bottom = Float(src[p10 + c]) + ax * (Float(src[p11 + c]) - Float(src[p10 + c]))
                            let v = top + ay * (bottom - top)
                            dst[d + c] = UInt8(min(max(v + 0.5, 0), 255))
                        }
                        sx += cs
                        sy += sn
                    }
                }
            }
        }
        return Image(width: w, height: h, pixels: out)
    }

    /// Bilinear resize with TensorFlow's half-pixel centres (tf.image.resize, antialias off,
    /// as Keras' image_dataset_from_directory uses). Returns HWC floats on the 0...255 scale,
    /// unrounded, as Keras hands them to the model.
    public static func resizeBilinearFloat(_ image: Image, width outW: Int, height outH: Int) -> [Float] {
        precondition(outW > 0 && outH > 0, "target size must be positive")
        let w = image.width, h = image.height
        func weights(_ outSize: Int, _ inSize: Int) -> [(Int, Int, Float)] {
            let scale = Float(inSize) / Float(outSize)
            return (0..<outSize).map { i in
                let v = (Float(i) + 0.5) * scale - 0.5
                let f = v.rounded(.down)
                return (max(Int(f), 0), min(Int(v.rounded(.up)), inSize - 1), v - f)
            }
        }
        let xs = weights(outW, w), ys = weights(outH, h)
        var out = [Float](repeating: 0, count: outW * outH * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (oy, (y0, y1, ay)) in ys.enumerated() {
                    for (ox, (x0, x1, ax)) in xs.enumerated() {
                        for c in 0..<3 {
                            let tl = Float(src[(y0 * w + x0) * 3 + c]), tr = Float(src[(y0 * w + x1) * 3 + c])
                            let bl = Float(src[(y1 * w + x0) * 3 + c]), br = Float(src[(y1 * w + x1) * 3 + c])
                            let top = tl + (tr - tl) * ax, bottom = bl + (br - bl) * ax
                            dst[(oy * outW + ox) * 3 + c] = top + (bottom - top) * ay
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear resize rounded back to 8 bits.
    public static func resizeBilinear(_ image: Image, width: Int, height: Int) -> Image {
        Image(
            width: width, height: height,
            pixels: resizeBilinearFloat(image, width: width, height: height).map { UInt8(min(max($0 + 0.5, 0), 255)) })
    }

    /// Area (box-filter) resize for downscaling: each output pixel is the mean of the source
    /// area it covers, fractional pixels weighted by coverage (OpenCV's INTER_AREA).
    public static func resizeArea(_ image: Image, width outW: Int, height outH: Int) -> Image {
        precondition(outW > 0 && outH > 0, "target size must be positive")
        let w = image.width, h = image.height
        // Per output index: list of (source index, weight), weights summing to 1.
        func spans(_ outSize: Int, _ inSize: Int) -> [[(Int, Float)]] {
            let scale = Double(inSize) / Double(outSize)
            return (0..<outSize).map { i in
                let start = Double(i) * scale, end = Double(i + 1) * scale
                var list: [(Int, Float)] = []
                var s = Int(start.rounded(.down))
                while Double(s) < end && s < inSize {
                    let cover = min(end, Double(s + 1)) - max(start, Double(s))
                    if cover > 1e-9 { list.append((s, Float(cover / scale))) }
                    s += 1
                }
                return list
            }
        }
        let xs = spans(outW, w), ys = spans(outH, h)
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for oy in 0..<outH {
                for ox in 0..<outW {
                    var acc: (Float, Float, Float) = (0, 0, 0)
                    for (sy, wy) in ys[oy] {
                        for (sx, wx) in xs[ox] {
                            let p = (sy * w + sx) * 3, wt = wy * wx
                            acc.0 += wt * Float(src[p]); acc.1 += wt * Float(src[p + 1]);
                            acc.2 += wt * Float(src[p + 2])
                        }
                    }
                    let d = (oy * outW + ox) * 3
                    out[d] = UInt8(min(max(acc.0 + 0.5, 0), 255))
                    out[d + 1] = UInt8(min(max(acc.1 + 0.5, 0), 255))
                    out[d + 2] = UInt8(min(max(acc.2 + 0.5, 0), 255))
                }
            }
        }
        return Image(width: outW, height: outH, pixels: out)
    }

    /// The center crop with the aspect ratio of `width`:`height` (Keras' crop_to_aspect_ratio).
    public static func cropToAspectRatio(_ image: Image, width targetW: Int, height targetH: Int) -> Image {
        let w = image.width, h = image.height
        let cropH = min(h, Int(Double(w * targetH) / Double(targetW)))
        let cropW = min(w, Int(Double(h * targetW) / Double(targetH)))
        let y0 = (h - cropH) / 2, x0 = (w - cropW) / 2
        return crop(image, x: x0, y: y0, width: max(cropW, 1), height: max(cropH, 1))
    }

    /// The rectangle at (`x`, `y`) of the given size.
    public static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(
            x >= 0 && y >= 0 && x + width <= image.width && y + height <= image.height, "crop outside the image")
        var out = [UInt8]()
        out.reserveCapacity(width * height * 3)
        for row in y..<(y + height) {
            let start = (row * image.width + x) * 3
            out.append(contentsOf: image.pixels[start..<(start + width * 3)])
        }
        return Image(width: width, height: height, pixels: out)
    }
}
