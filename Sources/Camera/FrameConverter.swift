import Imaging
import KioskCore

/// Turns a camera buffer into RGB: MJPEG through libjpeg-turbo (at a reduced DCT scale when the caller needs
/// less than full size), YUYV and RGB24 directly.
public final class FrameConverter {
    private let decoder = JPEGDecoder()

    public init() {}

    /// - Parameter minimumShorterSide: the smallest shorter side the caller needs; MJPEG decodes at the smallest
    ///   DCT scale that keeps it, YUYV halves when that still keeps it. nil converts at full size.
    public func rgb(
        from bytes: UnsafeRawBufferPointer, format: NegotiatedFormat, minimumShorterSide: Int?, device: String
    ) throws(CameraError) -> RGBImage {
        switch format.format {
        case .mjpeg, .jpeg:
            do {
                return try decoder.decode(bytes, source: device, minimumShorterSide: minimumShorterSide)
            } catch {
                throw .badFrame(device: device, reason: "\(error)")
            }
        case .yuyv:
            let stride = format.bytesPerLine > 0 ? format.bytesPerLine : format.width * 2
            guard format.width >= 2, format.height >= 1, bytes.count >= stride * (format.height - 1) + format.width * 2 else {
                throw .badFrame(device: device, reason: "YUYV frame has \(bytes.count) bytes, expected \(stride * format.height)")
            }
            let half = minimumShorterSide.map { min(format.width, format.height) / 2 >= $0 } ?? false
            return half ? Self.yuyvHalf(bytes, width: format.width, height: format.height, stride: stride)
                : Self.yuyv(bytes, width: format.width, height: format.height, stride: stride)
        case .rgb24:
            let stride = format.bytesPerLine > 0 ? format.bytesPerLine : format.width * 3
            guard bytes.count >= stride * (format.height - 1) + format.width * 3 else {
                throw .badFrame(device: device, reason: "RGB24 frame has \(bytes.count) bytes, expected \(stride * format.height)")
            }
            var pixels = [UInt8](repeating: 0, count: format.width * format.height * 3)
            pixels.withUnsafeMutableBytes { dst in
                for y in 0..<format.height {
                    dst.baseAddress!.advanced(by: y * format.width * 3)
                        .copyMemory(from: bytes.baseAddress!.advanced(by: y * stride), byteCount: format.width * 3)
                }
            }
            return RGBImage(width: format.width, height: format.height, pixels: pixels)
        default:
            throw .badFrame(device: device, reason: "cannot convert \(format.format) frames")
        }
    }

    /// BT.601 limited range (what UVC cameras send), in 8.8 fixed point.
    @inline(__always)
    static func pixel(_ y: Int32, _ u: Int32, _ v: Int32, into out: UnsafeMutablePointer<UInt8>) {
        let c = 298 * (y - 16) + 128
        let d = u - 128
        let e = v - 128
        out[0] = UInt8(clamping: (c + 409 * e) >> 8)
        out[1] = UInt8(clamping: (c - 100 * d - 208 * e) >> 8)
        out[2] = UInt8(clamping: (c + 516 * d) >> 8)
    }

    static func yuyv(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, stride: Int) -> RGBImage {
        let w = width & ~1
        var pixels = [UInt8](repeating: 0, count: w * height * 3)
        let src = bytes.bindMemory(to: UInt8.self).baseAddress!
        pixels.withUnsafeMutableBufferPointer { dst in
            let out = dst.baseAddress!
            for row in 0..<height {
                let line = src + row * stride
                var o = out + row * w * 3
                var x = 0
                while x < w {
                    let p = line + x * 2
                    let u = Int32(p[1]), v = Int32(p[3])
                    pixel(Int32(p[0]), u, v, into: o)
                    pixel(Int32(p[2]), u, v, into: o + 3)
                    o += 6
                    x += 2
                }
            }
        }
        return RGBImage(width: w, height: height, pixels: pixels)
    }

    /// Half size in both directions: one pixel per YUYV pair (mean of its two Y), every other row.
    static func yuyvHalf(_ bytes: UnsafeRawBufferPointer, width: Int, height: Int, stride: Int) -> RGBImage {
        let w = width / 2, h = height / 2
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        let src = bytes.bindMemory(to: UInt8.self).baseAddress!
        pixels.withUnsafeMutableBufferPointer { dst in
            let out = dst.baseAddress!
            for row in 0..<h {
                let line = src + 2 * row * stride
                var o = out + row * w * 3
                for x in 0..<w {
                    let p = line + x * 4
                    pixel((Int32(p[0]) + Int32(p[2]) + 1) >> 1, Int32(p[1]), Int32(p[3]), into: o)
                    o += 3
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}

// One converter per capture thread.
@available(*, unavailable)
extension FrameConverter: Sendable {}
