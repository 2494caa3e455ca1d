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
