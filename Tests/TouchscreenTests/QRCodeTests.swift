import Testing
import Touchscreen

/// libqrencode's output as the screen draws it.
@Suite struct QRCodeTests {
    @Test func aClaimLinkIsASmallCodeWithItsThreeFinderPatterns() throws {
        let link = "https://kiosk.city.example/resident/claim?c=1~station-1~bxwrOk1eT2CBcpOktcbX6A~1795000000~AAAAAAAAAAAAAAAAAAAAAA"
        let code = try QRCode(encoding: link)
        // Version v has 17 + 4v modules a side; a 112-byte link fits version 7 at level M.
        #expect((code.size - 17) % 4 == 0 && code.size <= 45, "size \(code.size)")
        func dark(_ r: Int, _ c: Int) -> Bool { code.modules[r * code.size + c] }
        for (r0, c0) in [(0, 0), (0, code.size - 7), (code.size - 7, 0)] {
            for i in 0..<7 {
                #expect(dark(r0, c0 + i) && dark(r0 + 6, c0 + i) && dark(r0 + i, c0) && dark(r0 + i, c0 + 6), "finder ring at \(r0),\(c0)")
            }
            #expect(!dark(r0 + 1, c0 + 1) && dark(r0 + 3, c0 + 3), "finder centre at \(r0),\(c0)")
        }
        let image = code.image(scale: 3)
        #expect(image.width == (code.size + 8) * 3 && image.height == image.width)
        // The quiet zone is white; the first finder's corner is black.
        #expect(image.pixels[0] == 255 && image.pixels[((12 * image.width) + 12) * 4] == 0)
    }

    @Test func textTooLongForAnyQRCodeIsATypedError() {
        #expect(throws: TouchscreenError.self) { _ = try QRCode(encoding: String(repeating: "x", count: 5000)) }
    }
}
