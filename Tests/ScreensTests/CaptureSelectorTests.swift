import Imaging
import KioskCore
import Screens
import Testing

/// The technician's capture on real photos: the empty tray first, then one frame per item lying still, never
/// the same scene twice in a row, nothing while the picture moves.
@Suite struct CaptureSelectorTests {
    static let fixtures = String(#filePath).split(separator: "/").dropLast(2).joined(separator: "/")
    let t0 = ContinuousClock.now

    func photo(_ name: String) throws -> RGBImage {
        Resampler.resize(try ImageDecoder.decode(file: "/\(Self.fixtures)/Fixtures/model/\(name).jpg"), width: 640, height: 360)
    }

    /// Feeds `image` at 30 fps for `seconds` from `start`; the times at which frames were kept.
    func show(_ image: RGBImage, for seconds: Double, from start: inout Duration, to selector: inout CaptureSelector) -> [Duration] {
        var kept: [Duration] = []
        let frames = Int(seconds * 30)
        for _ in 0..<frames {
            if selector.observe(image, at: t0 + start) { kept.append(start) }
            start += .milliseconds(33)
        }
        return kept
    }

    @Test func oneFramePerStillItemAndNoneOfTheEmptyTray() throws {
        let tray = RGBImage(width: 640, height: 360, pixels: [UInt8](repeating: 216, count: 640 * 360 * 3))
        let glass = try photo("glass"), metal = try photo("metal"), cardboard = try photo("cardboard")
        var selector = CaptureSelector()
        var t = Duration.zero
        #expect(show(tray, for: 1, from: &t, to: &selector).isEmpty)
        #expect(selector.knowsEmptyTray)
        let first = show(glass, for: 2, from: &t, to: &selector)
        #expect(first.count == 1)  // once, after it lay still for 0.6 s
        #expect(show(tray, for: 1, from: &t, to: &selector).isEmpty)
        // Put back exactly as before, after the tray was empty: the same picture, not kept again.
        #expect(show(glass, for: 1, from: &t, to: &selector).isEmpty)
        #expect(show(metal, for: 1, from: &t, to: &selector).count == 1)
        #expect(show(metal, for: 2, from: &t, to: &selector).isEmpty)
        // A picture that keeps changing (the item being moved) is never kept.
        var moving: [Duration] = []
        for i in 0..<60 {
            if selector.observe(i % 2 == 0 ? cardboard : glass, at: t0 + t) { moving.append(t) }
            t += .milliseconds(33)
        }
        #expect(moving.isEmpty)
        #expect(show(cardboard, for: 1, from: &t, to: &selector).count == 1)
    }

    @Test func withoutTheEmptyTrayFirstTheFirstStillSceneIsTakenAsTheTray() throws {
        var selector = CaptureSelector()
        var t = Duration.zero
        #expect(show(try photo("glass"), for: 2, from: &t, to: &selector).isEmpty)
        #expect(show(try photo("metal"), for: 1, from: &t, to: &selector).count == 1)
    }
}
