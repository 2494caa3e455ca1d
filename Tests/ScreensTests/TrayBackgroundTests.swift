import Imaging
import KioskCore
import Screens
import Testing

/// The empty-tray check on real photos: the learned scene, the same scene under other light and sensor noise,
/// and the scene with a real object pasted onto it.
@Suite struct TrayBackgroundTests {
    static let fixtures = String(#filePath).split(separator: "/").dropLast(2).joined(separator: "/")
    let t0 = ContinuousClock.now

    func photo(_ name: String) throws -> RGBImage {
        let image = try ImageDecoder.decode(file: "/\(Self.fixtures)/Fixtures/model/\(name).jpg")
        return Resampler.resize(image, width: 640, height: 360)
    }

    /// `base` with `item` pasted over a centred box a quarter of the picture's area.
    func placing(_ item: RGBImage, on base: RGBImage) -> RGBImage {
        var out = base
        let w = base.width / 2, h = base.height / 2
        let patch = Resampler.resize(item, width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    out.pixels[((y + h / 2) * base.width + x + w / 2) * 3 + c] = patch.pixels[(y * w + x) * 3 + c]
                }
            }
        }
        return out
    }

    func adjusted(_ image: RGBImage, brightness: Int, noise: Int) -> RGBImage {
        var out = image
        var g = SystemRandomNumberGenerator()
        for i in out.pixels.indices {
            let n = noise > 0 ? Int.random(in: -noise...noise, using: &g) : 0
            out.pixels[i] = UInt8(clamping: Int(out.pixels[i]) + brightness + n)
        }
        return out
    }

    func learned(_ scene: RGBImage, settings: TrayBackground.Settings = .init()) -> TrayBackground {
        var tray = TrayBackground(settings: settings)
        for i in 0...12 { tray.observe(scene, at: t0 + .milliseconds(250 * i)) }
        return tray
    }

    @Test func nothingIsEmptyBeforeTheTrayWasLearned() throws {
        var tray = TrayBackground()
        let scene = try photo("paper")
        #expect(!tray.isEmpty(scene))
        tray.observe(scene, at: t0)
        tray.observe(scene, at: t0 + .seconds(1))
        #expect(tray.background == nil)  // not still for long enough yet
        tray.observe(scene, at: t0 + .seconds(2))
        #expect(tray.background != nil)
    }

    @Test func theLearnedTrayIsEmptyUnderOtherLightAndNoise() throws {
        let scene = try photo("paper")
        let tray = learned(scene)
        #expect(tray.isEmpty(scene))
        #expect(tray.isEmpty(adjusted(scene, brightness: 25, noise: 0)))
        #expect(tray.isEmpty(adjusted(scene, brightness: -20, noise: 8)))
    }

    @Test(arguments: ["glass", "metal", "electronics", "food", "plastic"])
    func aRealObjectOnTheTrayIsNotEmpty(item: String) throws {
        let scene = try photo("paper")
        let tray = learned(scene)
        #expect(!tray.isEmpty(placing(try photo(item), on: scene)))
    }

    @Test func aSceneThatKeepsChangingIsNeverLearned() throws {
        let a = try photo("paper"), b = try photo("cardboard")
        var tray = TrayBackground()
        for i in 0..<40 { tray.observe(i % 2 == 0 ? a : b, at: t0 + .milliseconds(250 * i)) }
        #expect(tray.background == nil)
    }

    @Test func anItemLeftStillIsNotLearnedUntilTheRelearnTime() throws {
        let scene = try photo("paper")
        var tray = learned(scene)
        let withItem = placing(try photo("metal"), on: scene)
        let start = t0 + .seconds(10)
        for i in 0...60 { tray.observe(withItem, at: start + .seconds(i)) }  // one minute
        #expect(!tray.isEmpty(withItem))
        #expect(tray.isEmpty(scene))
        tray.observe(withItem, at: start + .seconds(121))
        #expect(tray.isEmpty(withItem))  // taken as the new tray after two minutes
        tray.reset()
        #expect(!tray.isEmpty(withItem))
    }
}
