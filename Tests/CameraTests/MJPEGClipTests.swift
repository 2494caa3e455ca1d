import Camera
import Foundation
import Imaging
import KioskCore
import Testing

/// Recorded clips: JPEG frames back to back, split by walking the JPEG structure.
struct MJPEGClipTests {
    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture(name)))) }

    func index(_ clip: [UInt8]) throws -> MJPEGClip.Index {
        try clip.withUnsafeBytes { try MJPEGClip.index($0, path: "clip.mjpeg") }
    }

    func frameLength(_ buffer: [UInt8]) throws -> Int? {
        try buffer.withUnsafeBytes { try MJPEGClip.frameLength($0, path: "buffer") }
    }

    /// glass1.jpg with an EXIF-like APP1 segment right after SOI that holds a whole small JPEG (its own FF D8 … FF D9),
    /// as cameras and phones embed thumbnails.
    func withEmbeddedThumbnail() throws -> [UInt8] {
        let thumbnail = try JPEGEncoder().encode(RGBImage(width: 16, height: 16, pixels: [UInt8](repeating: 200, count: 16 * 16 * 3)),
                                                 quality: 80, destination: "thumbnail")
        let payload = Array("Exif\0\0".utf8) + thumbnail
        let length = payload.count + 2
        let glass = try bytes("glass1.jpg")
        return [0xFF, 0xD8, 0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + glass.dropFirst(2)
    }

    @Test func framesAreFoundWholeEvenWithAThumbnailInside() throws {
        let frames = [try withEmbeddedThumbnail(), try bytes("frame-1280x720.jpg"), try bytes("glass1.jpg")]
        let found = try index(frames.reduce([], +))
        #expect(found.frames.map(\.count) == frames.map(\.count))
        #expect(found.truncatedBytes == 0)
        // Each range decodes to the picture it came from.
        let clip = frames.reduce([], +)
        let sizes = try found.frames.map { range in
            let image = try ImageDecoder.decode(Array(clip[range]), source: "frame")
            return "\(image.width)x\(image.height)"
        }
        #expect(sizes == ["512x384", "1280x720", "512x384"])
    }

    @Test func aCutOffLastFrameIsLeftOutAndCounted() throws {
        let glass = try bytes("glass1.jpg")
        let found = try index(glass + glass + Array(glass.prefix(3000)))
        #expect(found.frames == [0..<glass.count, glass.count..<(2 * glass.count)])
        #expect(found.truncatedBytes == 3000)
    }

    @Test func aCameraBufferWithPaddingGivesTheFrameLength() throws {
        let glass = try bytes("glass1.jpg")
        let padded = glass + [UInt8](repeating: 0, count: 4096)
        #expect(try frameLength(padded) == glass.count)
        let cut = Array(glass.prefix(glass.count - 10))
        #expect(try frameLength(cut) == nil)
    }

    @Test func whatIsNotAClipIsNamed() throws {
        let glass = try bytes("glass1.jpg")
        #expect(throws: CameraError.badClip(path: "clip.mjpeg", reason: "the file is empty")) { try index([]) }
        #expect(throws: CameraError.badClip(path: "clip.mjpeg", reason: "no JPEG frame starts at byte \(glass.count)")) {
            try index(glass + Array("garbage".utf8) + glass)
        }
        #expect(throws: CameraError.badClip(path: "clip.mjpeg", reason: "no complete JPEG frame")) { try index(Array(glass.prefix(500))) }
        #expect(throws: CameraError.badClip(path: "clip.mjpeg", reason: "no JPEG frame starts at byte 0")) { try index(try bytes("not-an-image.jpg")) }
    }

    @Test func aClipReplaysAsTheCameraInOrder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/tray.mjpeg"
        try Data(try bytes("glass1.jpg") + bytes("frame-1280x720.jpg")).write(to: URL(fileURLWithPath: path))
        #expect(ReplayFrameSource.canPlay(path))
        let source = try ReplayFrameSource(path: path, framesPerSecond: 200, frameShorterSide: nil)
        #expect(source.itemCount == 2)
        source.start()
        var sizes: [String] = []
        var last: UInt64?
        while sizes.count < 6, let frame = source.nextFrame(after: last, timeout: .seconds(5)) {
            last = frame.sequence
            sizes.append("\(frame.image.width)x\(frame.image.height)")
        }
        #expect(source.status == .streaming(device: path, format: "replay of a clip of 2 frames"))
        source.stop()
        #expect(sizes.count == 6)
        #expect(Set(sizes) == ["512x384", "1280x720"])

        try Data("not a clip".utf8).write(to: URL(fileURLWithPath: folder + "/bad.mjpg"))
        #expect(throws: CameraError.badClip(path: folder + "/bad.mjpg", reason: "no JPEG frame starts at byte 0")) {
            _ = try ReplayFrameSource(path: folder + "/bad.mjpg")
        }
        #expect(throws: CameraError.noDevice(device: folder + "/missing.mjpeg")) { _ = try ReplayFrameSource(path: folder + "/missing.mjpeg") }
    }
}
