import Imaging

/// A recorded clip: JPEG frames one after another, what `kiosk camera record` writes and what ffmpeg and
/// GStreamer call a raw MJPEG stream. Frames are found by walking each JPEG's marker segments and, after a scan
/// header, its entropy-coded data up to the next marker — not by searching for FF D9, which also occurs inside an
/// embedded EXIF thumbnail.
public enum MJPEGClip {
    public static let extensions: Set<String> = ["mjpeg", "mjpg"]

    /// Whether `path` names a clip by its extension.
    public static func isClip(_ path: String) -> Bool { ImageFiles.hasExtension(path, in: extensions) }

    public struct Index: Sendable, Equatable {
        /// Byte ranges of the complete frames, in order.
        public var frames: [Range<Int>]
        /// Bytes at the end that are the start of a frame cut off (a recording interrupted); left out.
        public var truncatedBytes: Int
    }

    /// The complete frames in `bytes`.
    /// - Throws: `CameraError.badClip` when the bytes are not JPEG frames back to back, or hold no complete frame.
    public static func index(_ bytes: UnsafeRawBufferPointer, path: String) throws(CameraError) -> Index {
        var frames: [Range<Int>] = []
        var start = 0
        while start < bytes.count {
            guard bytes.count - start >= 2, bytes[start] == 0xFF, bytes[start + 1] == 0xD8 else {
                throw .badClip(path: path, reason: "no JPEG frame starts at byte \(start)")
            }
            guard let end = try frameEnd(bytes, from: start + 2, path: path) else {
                if frames.isEmpty { throw .badClip(path: path, reason: "no complete JPEG frame") }
                return Index(frames: frames, truncatedBytes: bytes.count - start)
            }
            frames.append(start..<end)
            start = end
        }
        if frames.isEmpty { throw .badClip(path: path, reason: "the file is empty") }
        return Index(frames: frames, truncatedBytes: 0)
    }

    /// The length of the JPEG frame at the start of `bytes` (a camera buffer may carry padding after it); nil
    /// when the frame is cut off.
    /// - Throws: `CameraError.badClip` when `bytes` does not start with a well-formed JPEG.
    public static func frameLength(_ bytes: UnsafeRawBufferPointer, path: String) throws(CameraError) -> Int? {
        guard bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 else {
            throw .badClip(path: path, reason: "the frame does not start like a JPEG")
        }
        return try frameEnd(bytes, from: 2, path: path)
    }

    /// The offset just past the EOI marker of the frame whose SOI ends at `position`; nil when the data ends first.
    private static func frameEnd(_ bytes: UnsafeRawBufferPointer, from position: Int, path: String) throws(CameraError) -> Int? {
        var p = position
        var inScan = false
        while p + 1 < bytes.count {
            if inScan {
                // Entropy-coded data: FF 00 is a stuffed FF and FF D0-D7 a restart marker; any other FF xx ends it.
                guard bytes[p] == 0xFF else { p += 1; continue }
                let next = bytes[p + 1]
                if next == 0x00 || (0xD0...0xD7).contains(next) || next == 0xFF { p += next == 0xFF ? 1 : 2; continue }
                inScan = false
            }
            guard bytes[p] == 0xFF else { throw .badClip(path: path, reason: "a JPEG marker was expected at byte \(p)") }
            let marker = bytes[p + 1]
            switch marker {
            case 0xFF: p += 1  // fill byte
            case 0xD9: return p + 2
            case 0xD8: throw .badClip(path: path, reason: "a frame starts at byte \(p) before the one before it ended")
            case 0x01, 0xD0...0xD7: p += 2  // markers without a length
            default:
                guard p + 3 < bytes.count else { return nil }
                let length = Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
                guard length >= 2 else { throw .badClip(path: path, reason: "a JPEG segment at byte \(p) has length \(length)") }
                p += 2 + length
                if marker == 0xDA { inScan = true }
            }
        }
        return nil
    }
}
