import Camera
import Foundation
import Imaging
import KioskCore
import Testing

struct FrameConverterTests {
    /// BT.601 limited range, the forward direction, as a UVC camera encodes.
    static func yuv(_ r: Double, _ g: Double, _ b: Double) -> (UInt8, UInt8, UInt8) {
        let y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
        let u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
        let v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
        return (UInt8(y.rounded()), UInt8(u.rounded()), UInt8(v.rounded()))
    }

    /// A YUYV frame of vertical stripes of the given colours, with padding at the end of each line.
    static func yuyvStripes(_ colours: [(Double, Double, Double)], width: Int, height: Int, stride: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xAA, count: stride * height)
        for y in 0..<height {
            for x in stride_(0, width, 2) {
                let c = colours[x * colours.count / width]
                let (yy, u, v) = yuv(c.0, c.1, c.2)
                let o = y * stride + x * 2
                bytes[o] = yy; bytes[o + 1] = u; bytes[o + 2] = yy; bytes[o + 3] = v
            }
        }
        return bytes
    }

    static func stride_(_ from: Int, _ to: Int, _ by: Int) -> StrideTo<Int> { Swift.stride(from: from, to: to, by: by) }

    static let colours: [(Double, Double, Double)] = [
        (255, 255, 255), (200, 30, 40), (20, 180, 60), (30, 40, 220), (128, 128, 128), (0, 0, 0),
    ]

    @Test func yuyvConvertsBackToTheColoursItEncodes() throws {
        let (w, h, stride) = (96, 8, 96 * 2 + 16)
        let bytes = Self.yuyvStripes(Self.colours, width: w, height: h, stride: stride)
        let format = NegotiatedFormat(format: .yuyv, width: w, height: h, bytesPerLine: stride, imageSize: bytes.count)
        let image = try bytes.withUnsafeBytes {
            try FrameConverter().rgb(from: $0, format: format, minimumShorterSide: nil, device: "test")
        }
        #expect(image.width == w && image.height == h)
        for (i, c) in Self.colours.enumerated() {
            let x = i * w / Self.colours.count + 8
            let p = (3 * w + x) * 3
            let got = [image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]].map(Int.init)
            let want = [c.0, c.1, c.2].map { Int($0) }
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 3 }, "stripe \(i): \(got) vs \(want)")
        }
    }

    @Test func yuyvHalvesWhenTheCallerNeedsLess() throws {
        let (w, h) = (96, 64)
        let bytes = Self.yuyvStripes(Self.colours, width: w, height: h, stride: w * 2)
        let format = NegotiatedFormat(format: .yuyv, width: w, height: h, bytesPerLine: w * 2)
        let converter = FrameConverter()
        let half = try bytes.withUnsafeBytes { try converter.rgb(from: $0, format: format, minimumShorterSide: 32, device: "t") }
        let full = try bytes.withUnsafeBytes { try converter.rgb(from: $0, format: format, minimumShorterSide: 33, device: "t") }
        #expect(half.width == 48 && half.height == 32)
        #expect(full.width == 96 && full.height == 64)
        // Same colour in the middle of the second stripe.
        let a = (10 * 48 + 12) * 3, b = (20 * 96 + 24) * 3
        #expect(abs(Int(half.pixels[a]) - Int(full.pixels[b])) <= 2)
    }

    @Test func aShortYUYVFrameIsABadFrame() {
        let format = NegotiatedFormat(format: .yuyv, width: 640, height: 480, bytesPerLine: 1280)
        let bytes = [UInt8](repeating: 0, count: 1000)
        #expect(throws: CameraError.self) {
            _ = try bytes.withUnsafeBytes { try FrameConverter().rgb(from: $0, format: format, minimumShorterSide: nil, device: "t") }
        }
    }

    @Test func mjpegDecodesARealPhotoAtAReducedScale() throws {
        let jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("glass1.jpg"))))
        let format = NegotiatedFormat(format: .mjpeg, width: 512, height: 384)
        let converter = FrameConverter()
        let full = try jpeg.withUnsafeBytes { try converter.rgb(from: $0, format: format, minimumShorterSide: nil, device: "t") }
        let small = try jpeg.withUnsafeBytes { try converter.rgb(from: $0, format: format, minimumShorterSide: 180, device: "t") }
        #expect(full.width == 512 && full.height == 384)
        // 1/2 scale keeps a shorter side of 192 >= 180; 3/8 would give 144.
        #expect(small.width == 256 && small.height == 192)
        let reference = try ImageDecoder.decode(file: fixture("glass1.jpg"))
        #expect(full.pixels == reference.pixels)
    }

    @Test func aCorruptMJPEGFrameIsABadFrameNamingTheDevice() throws {
        var jpeg = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("glass1.jpg"))))
        jpeg = Array(jpeg.prefix(600))
        let format = NegotiatedFormat(format: .mjpeg, width: 512, height: 384)
        do {
            _ = try jpeg.withUnsafeBytes { try FrameConverter().rgb(from: $0, format: format, minimumShorterSide: nil, device: "/dev/video0") }
            Issue.record("a truncated frame converted")
        } catch {
            guard case CameraError.badFrame(let device, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(device == "/dev/video0")
        }
    }

    @Test func captureModesParse() {
        #expect(CaptureMode(parsing: "MJPG:1280x720@30") == CaptureMode(format: .mjpeg, width: 1280, height: 720, framesPerSecond: 30))
        #expect(CaptureMode(parsing: "yuyv:640x480") == CaptureMode(format: .yuyv, width: 640, height: 480, framesPerSecond: 30))
        #expect(CaptureMode(parsing: "MJPG:1280x") == nil)
        #expect(CaptureMode(parsing: "MJPEG:1280x720") == nil)
        #expect(CaptureMode(parsing: "MJPG:0x720") == nil)
        #expect(PixelFormat.mjpeg.description == "MJPG")
        #expect(PixelFormat(code: 0x5659_5559) == .yuyv)
    }
}
