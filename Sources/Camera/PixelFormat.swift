/// A V4L2 pixel format code (fourcc), e.g. "MJPG", "YUYV".
public struct PixelFormat: Hashable, Sendable, CustomStringConvertible {
    public let code: UInt32

    public init(code: UInt32) { self.code = code }

    /// From its four characters; nil unless exactly four ASCII characters.
    public init?(_ name: String) {
        let bytes = Array(name.utf8)
        guard bytes.count == 4, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
        code = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    public static let mjpeg = PixelFormat("MJPG")!
    public static let jpeg = PixelFormat("JPEG")!
    public static let yuyv = PixelFormat("YUYV")!
    public static let rgb24 = PixelFormat("RGB3")!

    public var description: String {
        let chars = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }
        return String(decoding: chars, as: UTF8.self).trimmingTrailingSpaces
    }

    /// Formats FrameConverter turns into RGB.
    public var isConvertible: Bool { self == .mjpeg || self == .jpeg || self == .yuyv || self == .rgb24 }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// A format, size and rate to ask the camera for.
public struct CaptureMode: Hashable, Sendable, CustomStringConvertible {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int

    public init(format: PixelFormat, width: Int, height: Int, framesPerSecond: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
    }

    /// What a C920 delivers over USB 2, then the fallback every UVC camera has.
    public static let preferred: [CaptureMode] = [
        CaptureMode(format: .mjpeg, width: 1280, height: 720, framesPerSecond: 30),
        CaptureMode(format: .yuyv, width: 640, height: 480, framesPerSecond: 30),
    ]

    /// Parses "MJPG:1280x720@30" (the rate is optional, 30 by default).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let format = PixelFormat(String(parts[0]).uppercased()) else { return nil }
        let sizeAndRate = parts[1].split(separator: "@", maxSplits: 1)
        let size = sizeAndRate[0].split(separator: "x")
        guard size.count == 2, let w = Int(size[0]), let h = Int(size[1]), w > 0, h > 0 else { return nil }
        var fps = 30
        if sizeAndRate.count == 2 {
            guard let f = Int(sizeAndRate[1]), f > 0 else { return nil }
            fps = f
        }
        self.init(format: format, width: w, height: h, framesPerSecond: fps)
    }

    public var description: String { "\(format) \(width)x\(height) @ \(framesPerSecond) fps" }
}
