import KioskCore

/// Bilinear resampling and cropping of RGB pictures.
///
/// Downscaling widens the triangle filter by the scale factor (antialiasing), as Pillow's `BILINEAR` does, so the
/// kiosk sees a picture the same way the training pipeline (Pillow / torchvision) did.
public enum Resampler {
    /// Resizes so that the shorter side is `side` pixels, keeping the aspect ratio as torchvision's `Resize(side)`
    /// does (the longer side is truncated). A picture whose shorter side already is `side` is returned unchanged.
    public static func resizeShorterSide(_ image: RGBImage, to side: Int) -> RGBImage {
        let (w, h) = (image.width, image.height)
        if min(w, h) == side { return image }
        let (ow, oh) = w <= h ? (side, Int(Double(side) * Double(h) / Double(w))) : (Int(Double(side) * Double(w) / Double(h)), side)
        return resize(image, width: ow, height: oh)
    }

    /// Resizes to exactly `width` x `height`.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width > 0 && height > 0, "resize to an empty size")
        if width == image.width && height == image.height { return image }
        let xs = FilterTaps(inputSize: image.width, outputSize: width)
        let ys = FilterTaps(inputSize: image.height, outputSize: height)

        // Horizontal pass into floats, then vertical pass with rounding.
        var rows = [Float](repeating: 0, count: image.height * width * 3)
        image.pixels.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0..<image.height {
                    let srcRow = y * image.width * 3
                    let dstRow = y * width * 3
                    for x in 0..<width {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        let first = xs.first[x]
                        for t in 0..<xs.count[x] {
                            let weight = xs.weights[xs.offset[x] + t]
                            let p = srcRow + (first + t) * 3
                            r += weight * Float(src[p])
                            g += weight * Float(src[p + 1])
                            b += weight * Float(src[p + 2])
                        }
                        dst[dstRow + x * 3] = r
                        dst[dstRow + x * 3 + 1] = g
                        dst[dstRow + x * 3 + 2] = b
                    }
                }
            }
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        rows.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                let stride = width * 3
                for y in 0..<height {
                    let first = ys.first[y]
                    for i in 0..<stride {
                        var sum: Float = 0
                        for t in 0..<ys.count[y] {
                            sum += ys.weights[ys.offset[y] + t] * src[(first + t) * stride + i]
                        }
                        dst[y * stride + i] = UInt8(max(0, min(255, (sum + 0.5).rounded(.down))))
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Cuts the centre `width` x `height` out of a picture at least that large (torchvision's `CenterCrop`).
    public static func centerCrop(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(image.width >= width && image.height >= height, "crop larger than the picture")
        if width == image.width && height == image.height { return image }
        // Python rounds halves to even, and torchvision's CenterCrop inherits that.
        let top = Int((Double(image.height - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(image.width - width) / 2).rounded(.toNearestOrEven))
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.withUnsafeBufferPointer { src in
            pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let from = ((top + y) * image.width + left) * 3
                    let to = y * width * 3
                    dst.baseAddress!.advanced(by: to).update(from: src.baseAddress!.advanced(by: from), count: width * 3)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}

/// Per-output-pixel input ranges and weights of a (widened) triangle filter.
private struct FilterTaps {
    var first: [Int] = []
    var count: [Int] = []
    var offset: [Int] = []
    var weights: [Float] = []

    init(inputSize: Int, outputSize: Int) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filterScale  // triangle support 1, widened when downscaling
        for o in 0..<outputSize {
            let center = (Double(o) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inputSize)
            var taps: [Double] = []
            for i in lo..<hi {
                let x = (Double(i) - center + 0.5) / filterScale
                taps.append(max(0, 1 - abs(x)))
            }
            let total = taps.reduce(0, +)
            first.append(lo)
            count.append(taps.count)
            offset.append(weights.count)
            weights.append(contentsOf: taps.map { Float(total > 0 ? $0 / total : 0) })
        }
    }
}
