// Contact sheets: images tiled in rows with a white gap, as generation and the report show them.
import Foundation

extension Image {
    /// The images side by side in rows of `columns`, with a 2-pixel white gap.
    public static func grid(_ images: [Image], columns: Int) -> Image? {
        guard let first = images.first else { return nil }
        let gap = 2, cols = max(1, min(columns, images.count)), rows = (images.count + cols - 1) / cols
        let W = cols * first.width + (cols - 1) * gap, H = rows * first.height + (rows - 1) * gap
        var sheet = Image(width: W, height: H, pixels: [UInt8](repeating: 255, count: W * H * 3))
        for (k, image) in images.enumerated() {
            let x0 = (k % cols) * (first.width + gap), y0 = (k / cols) * (first.height + gap)
            for y in 0..<min(image.height, first.height) {
                let src = y * image.width * 3, dst = ((y0 + y) * W + x0) * 3
                sheet.pixels.replaceSubrange(
                    dst..<(dst + min(image.width, first.width) * 3),
                    with: image.pixels[src..<(src + min(image.width, first.width) * 3)])
            }
        }
        return sheet
    }
}
