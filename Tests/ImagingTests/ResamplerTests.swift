import Foundation
import Imaging
import KioskCore
import Testing

struct ResamplerTests {
    @Test func resizeAndCropMatchPillowBilinear() throws {
        let photo = try ImageDecoder.decode(file: fixture("glass1.png"))
        let resized = Resampler.resizeShorterSide(photo, to: 256)
        #expect(resized.width == 341 && resized.height == 256)
        let crop = Resampler.centerCrop(resized, width: 224, height: 224)
        let reference = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("glass1-pillow-crop224.rgb"))))
        let diff = zip(crop.pixels, reference).map { abs(Int($0) - Int($1)) }
        let mean = Double(diff.reduce(0, +)) / Double(diff.count)
        #expect(mean < 0.5, "mean difference from Pillow \(mean)")
        #expect(diff.max()! <= 2)
    }

    @Test func aPictureAlreadyAt256GoesThroughUnchangedExceptTheCrop() {
        var pixels = [UInt8](repeating: 0, count: 256 * 256 * 3)
        for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 7) }
        let image = RGBImage(width: 256, height: 256, pixels: pixels)
        let same = Resampler.resizeShorterSide(image, to: 256)
        #expect(same.pixels == pixels)
        let crop = Resampler.centerCrop(same, width: 224, height: 224)
        for y in [0, 100, 223] {
            let row = Array(crop.pixels[(y * 224 * 3)..<((y + 1) * 224 * 3)])
            let start = ((y + 16) * 256 + 16) * 3
            #expect(row == Array(pixels[start..<(start + 224 * 3)]))
        }
    }

    @Test func upscalingAConstantPictureKeepsItConstant() {
        let image = RGBImage(width: 20, height: 30, pixels: [UInt8](repeating: 77, count: 20 * 30 * 3))
        let big = Resampler.resizeShorterSide(image, to: 256)
        #expect(big.width == 256 && big.height == 384)
        #expect(big.pixels.allSatisfy { $0 == 77 })
    }
}
