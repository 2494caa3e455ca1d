import Foundation
import KioskCore
import Testing

struct WallClockAndHexTests {
    @Test(arguments: [Int64(0), 951_782_400_000, 1_795_950_314_974, 4_102_444_799_999])
    func iso8601MatchesFoundations(milliseconds: Int64) {
        let foundation = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds / 1000)))
        #expect(WallClock.iso8601(milliseconds: milliseconds) == foundation)
    }

    @Test func nowIsTheSystemClock() {
        let foundation = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(abs(WallClock.nowMilliseconds - foundation) < 5_000)
    }

    @Test func hexRoundTripsAndRefusesBadDigits() {
        let bytes: [UInt8] = [0x00, 0x0f, 0xa5, 0xff]
        #expect(Hex.encode(bytes) == "000fa5ff")
        #expect(Hex.decode("000fA5ff") == bytes)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
