import Foundation
import KioskCore
@testable import SyncWire
import Testing

/// The points code: what the kiosk signs offline and the server checks.
@Suite struct ClaimCodeTests {
    static let key = ClaimCode.signingKey(tokenSHA256: OfflineBundle.key(forToken: "token-of-station-1-0123456789"))
    static let code = ClaimCode(kiosk: "station-1", record: UUID(uuidString: "6F1C2B3A-4D5E-4F60-8172-93A4B5C6D7E8")!, issuedAtSeconds: 1_795_000_000)

    @Test func aSignedCodeReadsBackAndVerifies() throws {
        let text = Self.code.text(key: Self.key)
        let (parsed, mac) = try ClaimCode.parse(text)
        #expect(parsed == Self.code)
        #expect(parsed.verify(mac: mac, key: Self.key))
        // Short enough for a small QR code on the kiosk's screen, link included.
        let link = Self.code.link(server: "https://kiosk.city.example/", key: Self.key)
        #expect(link == "https://kiosk.city.example/resident/claim?c=" + text)
        #expect(link.utf8.count < 120)
    }

    @Test func anyAlteredPartOrAnotherKioskKeyFailsTheSignature() throws {
        let text = Self.code.text(key: Self.key)
        var parts = text.split(separator: "~").map(String.init)
        for (index, replacement) in [(1, "station-2"), (3, String(Self.code.issuedAtSeconds + 86_400))] {
            var altered = parts
            altered[index] = replacement
            let (parsed, mac) = try ClaimCode.parse(altered.joined(separator: "~"))
            #expect(!parsed.verify(mac: mac, key: Self.key), "part \(index) altered")
        }
        let other = ClaimCode(kiosk: "station-1", record: UUID(), issuedAtSeconds: Self.code.issuedAtSeconds)
        parts[2] = other.text(key: Self.key).split(separator: "~")[2].description
        let (swapped, mac) = try ClaimCode.parse(parts.joined(separator: "~"))
        #expect(!swapped.verify(mac: mac, key: Self.key), "another record's id")
        let otherKey = ClaimCode.signingKey(tokenSHA256: OfflineBundle.key(forToken: "token-of-station-2-0123456789"))
        let (original, originalMAC) = try ClaimCode.parse(text)
        #expect(!original.verify(mac: originalMAC, key: otherKey))
        // The claim key is not the bundle key: a bundle signature never doubles as a claim signature.
        #expect(Self.key != OfflineBundle.key(forToken: "token-of-station-1-0123456789"))
    }

    @Test(arguments: [
        ("", "five parts"), ("1~station-1~AAAA~1~AAAA", "record part"), ("2~station-1~a~1~b", "version 2"),
        ("1~station 1~AAAAAAAAAAAAAAAAAAAAAA~1~AAAAAAAAAAAAAAAAAAAAAA", "kiosk name"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAA~-5~AAAAAAAAAAAAAAAAAAAAAA", "time part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAA~0042~AAAAAAAAAAAAAAAAAAAAAA", "time part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAA~99999999999999999999~AAAAAAAAAAAAAAAAAAAAAA", "time part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAA~1~AAAA", "signature part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAA=~1~AAAAAAAAAAAAAAAAAAAAAA", "record part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAB~1~AAAAAAAAAAAAAAAAAAAAAA", "record part"),
        ("1~station-1~AAAAAAAAAAAAAAAAAAAAAA~1~AAAAAAAAAAAAAAAAAAAAAA~x", "five parts"),
        (String(repeating: "A", count: 200), "longer than"),
    ])
    func malformedCodesAreRefusedNamingThePart(_ text: String, _ expected: String) {
        #expect {
            _ = try ClaimCode.parse(text)
        } throws: { error in
            guard case .malformed(let message) = error as? ClaimCodeError else { return false }
            return message.contains(expected)
        }
    }

    @Test func aCodeLastsADayAndMayRunAheadOfTheServerClockByTenMinutes() {
        let issued = Self.code.issuedAtSeconds * 1000
        #expect(Self.code.timeProblem(now: issued) == nil)
        #expect(Self.code.timeProblem(now: issued + ClaimCode.lifetimeMilliseconds) == nil)
        #expect(Self.code.timeProblem(now: issued + ClaimCode.lifetimeMilliseconds + 1) == .expired)
        #expect(Self.code.timeProblem(now: issued - 9 * 60 * 1000) == nil)
        #expect(Self.code.timeProblem(now: issued - 11 * 60 * 1000) == .malformed("the code was issued in the future"))
    }

    @Test func base64URLRoundTripsEveryLengthAndRefusesOtherAlphabets() {
        var g = SystemRandomNumberGenerator()
        for n in 0..<40 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("A") == nil)
    }
}
