import Crypto
import Foundation
import KioskCore
import SyncWire

/// What the server reads from kiosks: record batches, offline bundles, gzip bodies.
enum WireTargets {
    /// A batch body as the server decodes it: what decodes encodes and decodes back to the same batch.
    static let batch = FuzzTarget(name: "batch", summary: "record batches (RecordBatch JSON, as the server decodes it)") { bytes in
        guard let batch = try? WireJSON.decoder().decode(RecordBatch.self, from: Data(bytes)) else { return false }
        do {
            let again = try WireJSON.decoder().decode(RecordBatch.self, from: try WireJSON.encoder().encode(batch))
            require(again == batch, "a batch does not survive encoding")
        } catch {
            require(false, "a decoded batch cannot be encoded and decoded again: \(error)")
        }
        return true
    }

    /// The key the seeds are signed with (`kiosk-fuzz seed`).
    static let bundleToken = "fuzz-token"

    /// An offline bundle: the kiosk it names, then the signature; one that opens signs and opens to itself.
    static let bundle = FuzzTarget(name: "bundle", summary: "offline bundles (OfflineBundle: envelope, payload, HMAC)") { bytes in
        guard let kiosk = try? OfflineBundle.kiosk(in: bytes) else { return false }
        let key = OfflineBundle.key(forToken: bundleToken)
        guard let opened = try? OfflineBundle.open(bytes, key: { $0 == kiosk ? key : nil }) else { return false }
        require(opened.kiosk == kiosk && opened.records.allSatisfy { $0.kiosk == kiosk }, "a bundle holds another kiosk's records")
        do {
            let again = try OfflineBundle.open(try opened.signed(token: bundleToken), key: { _ in key })
            require(again == opened, "a bundle does not survive signing again")
        } catch {
            require(false, "an opened bundle cannot be signed and opened again: \(error)")
        }
        return true
    }

    /// A gzip body (`Content-Encoding: gzip`) under the server's size limit.
    static let gzip = FuzzTarget(name: "gzip", summary: "gzip bodies (Gzip.decompress with a limit)") { bytes in
        let limit = 1 << 20
        guard let plain = try? Gzip.decompress(bytes, limit: limit) else { return false }
        require(plain.count <= limit, "\(plain.count) bytes out, over the limit of \(limit)")
        let again = try? Gzip.decompress(Gzip.compress(plain), limit: limit)
        require(again == plain, "what decompressed does not survive compressing")
        return true
    }

    /// A points code as residents' phones send it: what parses has exactly this text, verifies only under the key
    /// that signed it, and a time check never traps.
    static let claim = FuzzTarget(name: "claim", summary: "points codes (ClaimCode text, from residents' phones)") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let parsed: (code: ClaimCode, mac: [UInt8])
        do {
            parsed = try ClaimCode.parse(text)
        } catch let error as ClaimCodeError {
            if case .malformed = error { return false }
            require(false, "parse threw \(error), not .malformed")
            return false
        } catch {
            require(false, "parse threw \(error), not a ClaimCodeError")
            return false
        }
        require(parsed.code.text(mac: parsed.mac) == text, "\(text.debugDescription) is not the code's one text")
        let key = ClaimCode.signingKey(tokenSHA256: OfflineBundle.key(forToken: bundleToken))
        let signed = parsed.code.text(key: key)
        let again = try? ClaimCode.parse(signed)
        require(again.map { $0.code == parsed.code && $0.code.verify(mac: $0.mac, key: key) } ?? false, "a re-signed code does not verify")
        _ = parsed.code.timeProblem(now: Int64(bytes.count) * 86_400_000)
        return true
    }

    /// The key model manifests in the seeds are signed with (a fixed test key).
    static var manifestKey: Curve25519.Signing.PrivateKey {
        try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    }

    /// What a kiosk reads from `GET /api/v1/model` (the assignment with its signed manifest), and the manifest's
    /// JSON inside it: only the city's key opens one, an opened manifest is sane, signs and opens to itself, and
    /// agrees with its own trial answers.
    static let manifest = FuzzTarget(name: "manifest", summary: "model assignments and manifests (from the central server)") { bytes in
        let key = manifestKey
        var accepted = false
        if let assignment = try? WireJSON.decoder().decode(ModelAssignment.self, from: Data(bytes)) {
            accepted = true
            if let opened = try? assignment.signed.open(publicKey: key.publicKey) {
                require(opened.problem() == nil, "an opened manifest fails its own checks")
            }
        }
        let raw = SignedManifest(manifest: Data(bytes).base64EncodedString(), signature: "")
        guard let decoded = try? raw.unverified() else { return accepted }
        require(decoded.problem() == nil, "a decoded manifest fails its own checks")
        do {
            let signed = try SignedManifest.sign(decoded, with: key)
            let reopened = try signed.open(publicKey: key.publicKey)
            require(reopened == decoded, "a manifest does not survive signing")
            require((try? signed.open(publicKey: Curve25519.Signing.PrivateKey().publicKey)) == nil, "another key opens a manifest")
        } catch {
            require(false, "a decoded manifest cannot be signed and opened again: \(error)")
        }
        require(decoded.disagreement(with: decoded.answers) == nil, "a manifest disagrees with its own answers")
        return true
    }
}
