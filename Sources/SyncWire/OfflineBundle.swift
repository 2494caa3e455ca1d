import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore

/// Pending records carried to the server on a USB stick when there is no network: a JSON document whose
/// payload is signed with HMAC-SHA256, so the server can tell it came from that kiosk and was not altered.
/// The key is SHA-256 of the kiosk's token: the server stores only that hash (never the token), and the token
/// itself stays the only credential for pushing over HTTP. Importing is idempotent (record ids), so a bundle may be imported twice, and records
/// also pushed later over the network are not counted twice.
public struct OfflineBundle: Sendable, Equatable {
    public static let format = "kiosk-bundle/1"

    public var kiosk: String
    public var createdAtMilliseconds: Int64
    public var records: [ScanRecord]
    /// Quiz answers travel with the scans (absent from bundles of older kiosks).
    public var quiz: [QuizAnswer]

    public init(kiosk: String, createdAtMilliseconds: Int64, records: [ScanRecord], quiz: [QuizAnswer] = []) {
        self.kiosk = kiosk
        self.createdAtMilliseconds = createdAtMilliseconds
        self.records = records
        self.quiz = quiz
    }

    struct Payload: Codable {
        var kiosk: String
        var createdAtMilliseconds: Int64
        var records: [ScanRecord]
        var quiz: [QuizAnswer]?

        enum CodingKeys: String, CodingKey {
            case kiosk, records, quiz
            case createdAtMilliseconds = "created_at_ms"
        }
    }

    struct Envelope: Codable {
        var format: String
        /// The payload's JSON text, signed as these exact bytes.
        var payload: String
        var hmacSHA256: String

        enum CodingKeys: String, CodingKey {
            case format, payload
            case hmacSHA256 = "hmac_sha256"
        }
    }

    /// The signing key for a token: its SHA-256, which is also what the server stores.
    public static func key(forToken token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The bundle file's bytes.
    public func signed(token: String) throws(BundleError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let payload = String(decoding: try encoder.encode(Payload(kiosk: kiosk, createdAtMilliseconds: createdAtMilliseconds, records: records,
                                                                               quiz: quiz.isEmpty ? nil : quiz)), as: UTF8.self)
            let envelope = Envelope(format: Self.format, payload: payload, hmacSHA256: Self.mac(payload, key: Self.key(forToken: token)))
            return [UInt8](try encoder.encode(envelope)) + [0x0A]
        } catch {
            throw .malformed("cannot encode: \(error)")
        }
    }

    /// Reads and verifies a bundle; `key(kiosk)` gives the signing key (`key(forToken:)`) of the kiosk the
    /// payload names, nil when that kiosk is unknown.
    public static func open(_ bytes: [UInt8], key: (String) throws -> [UInt8]?) throws(BundleError) -> OfflineBundle {
        let (envelope, payload) = try decode(bytes)
        let signingKey: [UInt8]?
        do {
            signingKey = try key(payload.kiosk)
        } catch {
            throw .malformed("cannot look up kiosk \(payload.kiosk): \(error)")
        }
        guard let signingKey else { throw .unknownKiosk(payload.kiosk) }
        let expected = mac(envelope.payload, key: signingKey)
        // Compared in constant time: the MAC is a secret-derived value.
        guard expected.utf8.count == envelope.hmacSHA256.utf8.count,
            zip(expected.utf8, envelope.hmacSHA256.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
        else { throw .badSignature(payload.kiosk) }
        if let stranger = payload.records.first(where: { $0.kiosk != payload.kiosk }) {
            throw .malformed("record \(stranger.id) belongs to kiosk \(stranger.kiosk), not \(payload.kiosk)")
        }
        if let stranger = payload.quiz?.first(where: { $0.kiosk != payload.kiosk }) {
            throw .malformed("quiz answer \(stranger.id) belongs to kiosk \(stranger.kiosk), not \(payload.kiosk)")
        }
        return OfflineBundle(kiosk: payload.kiosk, createdAtMilliseconds: payload.createdAtMilliseconds, records: payload.records,
                             quiz: payload.quiz ?? [])
    }

    /// The kiosk a bundle says it is from, before its signature is checked: the server looks its key up with this.
    public static func kiosk(in bytes: [UInt8]) throws(BundleError) -> String {
        try decode(bytes).1.kiosk
    }

    private static func decode(_ bytes: [UInt8]) throws(BundleError) -> (Envelope, Payload) {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(bytes))
        } catch {
            throw .malformed("not a kiosk bundle (\(error))")
        }
        guard envelope.format == format else { throw .malformed("format \(envelope.format), expected \(format)") }
        do {
            return (envelope, try JSONDecoder().decode(Payload.self, from: Data(envelope.payload.utf8)))
        } catch {
            throw .malformed("payload is not valid (\(error))")
        }
    }

    static func mac(_ payload: String, key: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: key))
        return Hex.encode(code)
    }
}

public enum BundleError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unknownKiosk(String)
    case badSignature(String)

    public var description: String {
        switch self {
        case .malformed(let m): return m
        case .unknownKiosk(let k): return "the bundle is from kiosk \(k), which is not registered here"
        case .badSignature(let k): return "the bundle's signature does not match kiosk \(k)'s token (altered, or signed with another token)"
        }
    }
}
