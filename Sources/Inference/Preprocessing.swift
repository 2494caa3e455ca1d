import Imaging
import KioskCore

/// How a picture becomes the network's input: shorter side resized (bilinear), centre crop, per-channel
/// mean/std normalisation of RGB values in 0...1. Stored in the model file, so the kiosk feeds a model exactly
/// as it was trained.
public struct Preprocessing: Sendable, Codable, Hashable {
    public var resizeShorterSide: Int
    public var cropWidth: Int
    public var cropHeight: Int
    /// RGB order.
    public var mean: [Float]
    public var std: [Float]

    /// ImageNet normalisation: resize to 256, crop 224 (scaled for other input sizes).
    public static func imageNet(inputWidth: Int = 224, inputHeight: Int = 224) -> Preprocessing {
        Preprocessing(
            resizeShorterSide: Int((Double(max(inputWidth, inputHeight)) * 256 / 224).rounded()),
            cropWidth: inputWidth, cropHeight: inputHeight,
            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    }

    /// Resize and crop: the picture the network will see.
    public func crop(_ image: RGBImage) -> RGBImage {
        let resized = Resampler.resizeShorterSide(image, to: resizeShorterSide)
        return Resampler.centerCrop(resized, width: cropWidth, height: cropHeight)
    }

    /// Normalised planes (NCHW) of a cropped picture.
    func writePlanar(_ cropped: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(cropped.width == cropWidth && cropped.height == cropHeight && out.count == 3 * cropWidth * cropHeight)
        let plane = cropWidth * cropHeight
        let scale = (0..<3).map { 1 / (255 * std[$0]) }
        let offset = (0..<3).map { -mean[$0] / std[$0] }
        cropped.pixels.withUnsafeBufferPointer { px in
            for i in 0..<plane {
                for c in 0..<3 {
                    out[c * plane + i] = Float(px[i * 3 + c]) * scale[c] + offset[c]
                }
            }
        }
    }

    /// Normalised and quantized pixels, interleaved (NHWC), for the int8 network's input.
    func writeInterleavedQuantized(
        _ cropped: RGBImage, parameters q: QuantizationParameters, into out: UnsafeMutableBufferPointer<Int8>
    ) {
        precondition(cropped.width == cropWidth && cropped.height == cropHeight && out.count == 3 * cropWidth * cropHeight)
        // 256 possible byte values per channel: one lookup table each.
        var table = [Int8](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for v in 0..<256 {
                table[c * 256 + v] = q.quantize((Float(v) / 255 - mean[c]) / std[c])
            }
        }
        cropped.pixels.withUnsafeBufferPointer { px in
            table.withUnsafeBufferPointer { t in
                for i in 0..<px.count {
                    out[i] = t[(i % 3) * 256 + Int(px[i])]
                }
            }
        }
    }
}
