import Foundation
import Imaging
import KioskCore
import Testing

func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name).path
}

struct ImageDecoderTests {
    @Test func decodesARealJPEGPhotoAndItsPNGCopyAlike() throws {
        let jpeg = try ImageDecoder.decode(file: fixture("glass1.jpg"))
        let png = try ImageDecoder.decode(file: fixture("glass1.png"))
        #expect(jpeg.width == 512 && jpeg.height == 384)
        #expect(png.width == 512 && png.height == 384)
        // The PNG was written from Pillow's decode of the same JPEG: only IDCT rounding may differ.
        let diff = zip(jpeg.pixels, png.pixels).map { abs(Int($0) - Int($1)) }
        #expect(Double(diff.reduce(0, +)) / Double(diff.count) < 1.0)
    }

    @Test func decodesAtAReducedDCTScaleWhenThatIsEnough() throws {
        let small = try ImageDecoder.decode(file: fixture("glass1.jpg"), minimumShorterSide: 100)
        #expect(min(small.width, small.height) >= 100)
        #expect(small.width < 512 && small.height < 384)
        #expect(abs(Double(small.width) / Double(small.height) - 512.0 / 384.0) < 0.02)
    }

    @Test func compositesTransparentPixelsOntoWhite() throws {
        let image = try ImageDecoder.decode(file: fixture("alpha64x48.png"))
        #expect(image.width == 64 && image.height == 48)
        #expect(Array(image.pixels[0..<3]) == [255, 255, 255])
        #expect(Array(image.pixels[(40 * 3)..<(40 * 3 + 3)]) != [255, 255, 255])
    }

    @Test(arguments: [
        ("empty.png", ImageError.empty(source: fixture("empty.png"))),
        ("not-an-image.jpg", .unknownFormat(source: fixture("not-an-image.jpg"))),
        ("one-pixel.png", .tooSmall(source: fixture("one-pixel.png"), width: 1, height: 1, minimum: ImageLimits.minimumSide)),
        ("huge-20000x20000.jpg", .tooLarge(source: fixture("huge-20000x20000.jpg"), width: 20000, height: 20000, maximum: ImageLimits.maximumSide)),
    ])
    func refusesBadPictures(name: String, expected: ImageError) {
        #expect(throws: expected) { try ImageDecoder.decode(file: fixture(name)) }
    }

    /// A progressive JPEG with 4x2 luma sampling (made with cjpeg from a TrashNet photo): TurboJPEG 2.1's header
    /// call has no name for it, libjpeg's own decoder reads it, as Pillow and browsers do.
    @Test func decodesJPEGsWithSamplingTurboJPEGCannotName() throws {
        let image = try ImageDecoder.decode(file: fixture("glass1-4x2-progressive.jpg"))
        #expect(image.width == 128 && image.height == 96)
        // djpeg's output of the same file (binary PPM: a three-line header, then RGB).
        let ppm = try #require(FileManager.default.contents(atPath: fixture("glass1-4x2-progressive.ppm")))
        var newlines = 0
        let start = try #require(ppm.firstIndex { byte in
            if byte == 0x0A { newlines += 1 }
            return newlines == 3
        }) + 1
        #expect(Array(ppm[start...]) == image.pixels)
        // Scaled like the TurboJPEG path: the smallest n/8 whose shorter side still reaches the minimum.
        let half = try ImageDecoder.decode(file: fixture("glass1-4x2-progressive.jpg"), minimumShorterSide: 48)
        #expect(half.width == 64 && half.height == 48)
    }

    @Test func aDamagedHeaderIsACorruptJPEGWithLibjpegsReason() throws {
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: fixture("glass1-4x2-progressive.jpg"))))
        // Keep SOI and the first marker (what makes it a JPEG), wreck everything after.
        for i in 4..<min(bytes.count, 400) { bytes[i] = 0x5A }
        #expect {
            try ImageDecoder.decode(bytes, source: "wrecked.jpg")
        } throws: { error in
            guard case .corrupt("wrecked.jpg", "JPEG", let reason)? = error as? ImageError else { return false }
            return !reason.isEmpty
        }
    }

    @Test func reportsTruncatedAndMissingFiles() {
        #expect {
            try ImageDecoder.decode(file: fixture("truncated.jpg"))
        } throws: { error in
            guard case .corrupt(_, "JPEG", _)? = error as? ImageError else { return false }
            return true
        }
        #expect {
            try ImageDecoder.decode(file: fixture("no-such-file.jpg"))
        } throws: { error in
            guard case .unreadable(_, ENOENT)? = error as? ImageError else { return false }
            return "\(error)".contains("No such file")
        }
    }
}

/// A JPEG that claims far more pixels than its bytes can hold is refused before memory is spent on it (the image
/// fuzzer's 258-byte progressive file claiming 7966x7198 took 11 s and hundreds of MB to refuse); a real flat
/// picture, the most compressible kind, still decodes.
struct DecompressionBombTests {
    @Test func aTinyFileClaimingAHugePictureIsRefusedAtOnce() {
        let path = fixture("bomb-7966x7198-258-bytes.jpg")
        #expect(throws: ImageError.corrupt(source: path, format: "JPEG",
                                           reason: "its header claims 7966x7198 pixels in only 258 bytes, more than any complete JPEG holds")) {
            _ = try ImageDecoder.decode(file: path)
        }
    }

    @Test(arguments: [10, 50, 90])
    func aFlatGreyPictureAtAnyQualityStillDecodes(_ quality: Int) throws {
        let flat = RGBImage(width: 2048, height: 1536, pixels: [UInt8](repeating: 128, count: 2048 * 1536 * 3))
        let bytes = try JPEGEncoder().encode(flat, quality: quality, destination: "flat")
        #expect(2048 * 1536 / bytes.count < 1024, "\(bytes.count) bytes")
        let decoded = try ImageDecoder.decode(bytes, source: "flat")
        #expect((decoded.width, decoded.height) == (2048, 1536))
    }
}
