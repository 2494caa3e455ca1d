import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore

/// A one-time code for a resident's points, shown as a QR code on the result screen: bound to one scan record
/// and signed by the kiosk that made it, so the server can check it without the kiosk being online. The key is
/// derived from the SHA-256 of the kiosk's token, which the server stores (as for offline bundles), under its own
/// label so a claim signature is never a valid bundle signature or the other way round.
///
/// Text form, short enough for a small QR code and safe in a URL: `1~KIOSK~RECORD~ISSUED~MAC`, with RECORD the
/// record id's 16 bytes and MAC the first 16 bytes of HMAC-SHA256, both base64url; ISSUED in seconds since 1970.
public struct ClaimCode: Sendable, Equatable {
    public static let version = "1"
    /// How long a code can be claimed after it was shown.
    public static let lifetimeMilliseconds: Int64 = 24 * 3600 * 1000
    /// A kiosk's clock may run this far ahead of the server's.
    public static let clockSkewMilliseconds: Int64 = 10 * 60 * 1000
    /// The longest code text accepted (a kiosk name is at most 64 characters).
    public static let maximumLength = 160

    public var kiosk: String
    public var record: UUID
    public var issuedAtSeconds: Int64

    public init(kiosk: String, record: UUID, issuedAtSeconds: Int64) {
        self.kiosk = kiosk
        self.record = record
        self.issuedAtSeconds = issuedAtSeconds
    }

    /// The claim signing key for a kiosk, from the SHA-256 of its token (`OfflineBundle.key(forToken:)`).
    public static func signingKey(tokenSHA256: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("kiosk-claim-key/1".utf8), using: SymmetricKey(data: tokenSHA256)))
    }

    /// The code's text, signed with `key` (`signingKey`).
    public func text(key: [UInt8]) -> String { text(mac: mac(key: key)) }

    /// The link a phone opens: the resident page's claim form with the code.
    public func link(server: String, key: [UInt8]) -> String {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        return "\(base)/resident/claim?c=\(text(key: key))"
    }

    /// Reads a code's text, checking its form but not yet its signature (the kiosk's key is looked up by `kiosk`).
    public static func parse(_ text: String) throws(ClaimCodeError) -> (code: ClaimCode, mac: [UInt8]) {
        guard text.utf8.count <= maximumLength else { throw .malformed("the code is longer than \(maximumLength) characters") }
        let parts = text.split(separator: "~", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 else { throw .malformed("the code does not have five parts separated by ~") }
        guard parts[0] == version else { throw .malformed("code version \(parts[0]) is not known (expected \(version))") }
        if let problem = KioskName.problem(parts[1]) { throw .malformed(problem) }
        guard let uuid = Base64URL.decode(parts[2]), uuid.count == 16 else { throw .malformed("the record part is not 16 bytes of base64url") }
        // Digits only, no leading zero: each code has exactly one text.
        guard parts[3].utf8.allSatisfy({ (0x30...0x39).contains($0) }), parts[3].utf8.count <= 12, parts[3] == "0" || !parts[3].hasPrefix("0"),
            let issued = Int64(parts[3])
        else {
            throw .malformed("the time part is not a number of seconds")
        }
        guard let mac = Base64URL.decode(parts[4]), mac.count == 16 else { throw .malformed("the signature part is not 16 bytes of base64url") }
        let record = UUID(uuid: (uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
                                 uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]))
        return (ClaimCode(kiosk: parts[1], record: record, issuedAtSeconds: issued), mac)
    }

    /// The text this code has with a given signature (the inverse of `parse`).
    public func text(mac: [UInt8]) -> String {
        let uuid = withUnsafeBytes(of: record.uuid) { Array($0) }
        return [Self.version, kiosk, Base64URL.encode(uuid), String(issuedAtSeconds), Base64URL.encode(mac)].joined(separator: "~")
    }

    /// Whether `mac` is this code's signature under `key` (compared in constant time).
    public func verify(mac: [UInt8], key: [UInt8]) -> Bool {
        let expected = self.mac(key: key)
        return expected.count == mac.count && zip(expected, mac).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Why the code cannot be claimed at `now` (milliseconds) on its time alone, nil when it can.
    public func timeProblem(now: Int64) -> ClaimCodeError? {
        let issued = issuedAtSeconds.multipliedReportingOverflow(by: 1000)
        if issued.overflow || issued.partialValue > now + Self.clockSkewMilliseconds {
            return .malformed("the code was issued in the future")
        }
        if now - issued.partialValue > Self.lifetimeMilliseconds { return .expired }
        return nil
    }

    private func mac(key: [UInt8]) -> [UInt8] {
        let message = "kiosk-claim/1\n\(kiosk)\n\(record.uuidString.lowercased())\n\(issuedAtSeconds)"
        return Array(Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: key))).prefix(16))
    }
}

public enum ClaimCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unknownKiosk(String)
    case badSignature
    case expired

    public var description: String {
        switch self {
        case .malformed(let m): "not a valid points code: \(m)"
        case .unknownKiosk(let k): "the code names kiosk \(k), which is not registered here"
        case .badSignature: "the code's signature does not match its kiosk (forged or altered)"
        case .expired: "the code has expired (codes can be claimed for a day)"
        }
    }
}

/// RFC 4648 base64url without padding, strict: anything else is refused.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var v = UInt32(bytes[i]) << 16
            if n > 1 { v |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { v |= UInt32(bytes[i + 2]) }
            for k in 0...n { out.append(alphabet[Int((v >> UInt32(18 - 6 * k)) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        for c in text.utf8 {
            guard let index = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt32(index))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 6 | (k < n ? values[i + k] : 0) }
            let bytes = [UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            out += bytes.prefix(n - 1)
            // Unused low bits must be zero, so each byte string has exactly one text.
            if n < 4 && bytes[n - 1] != 0 { return nil }
            i += 4
        }
        return out
    }
}
