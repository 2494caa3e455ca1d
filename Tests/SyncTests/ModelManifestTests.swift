import Crypto
import Foundation
import SyncWire
import Testing

/// The signed manifest a kiosk checks a model against before it downloads or installs it.
@Suite struct ModelManifestTests {
    /// A fixed test key (a computed property: the key type is not Sendable).
    static var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)) }
    static let answers = [
        ModelManifest.Answer(photo: "glass.jpg", photoSHA256: String(repeating: "ab", count: 32), label: "glass", probability: 0.9371),
        ModelManifest.Answer(photo: "metal.jpg", photoSHA256: String(repeating: "cd", count: 32), label: "metal", probability: 0.6420),
    ]
    static let manifest = ModelManifest(version: String(repeating: "0f", count: 32), size: 23_868_288,
                                        labels: ["glass", "metal"], answers: answers, notes: "retrained", createdAtMilliseconds: 1_795_000_000_000)

    @Test func aSignedManifestOpensWithTheCitysKeyOnly() throws {
        let signed = try SignedManifest.sign(Self.manifest, with: Self.key)
        #expect(try signed.open(publicKey: Self.key.publicKey) == Self.manifest)
        // The key as kiosks store it reads back.
        let stored = ModelSigningKey.base64(Self.key.publicKey)
        #expect(try signed.open(publicKey: ModelSigningKey.publicKey(base64: stored + "\n")) == Self.manifest)
        #expect(throws: ModelSignatureError.self) { try signed.open(publicKey: Curve25519.Signing.PrivateKey().publicKey) }
    }

    @Test func anyChangedByteOfTheManifestOrSignatureIsRefused() throws {
        let signed = try SignedManifest.sign(Self.manifest, with: Self.key)
        var bytes = try #require(Data(base64Encoded: signed.manifest))
        // A bigger size, the one change an attacker would like: refused.
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "23868288", with: "23868289")
        bytes = Data(text.utf8)
        let altered = SignedManifest(manifest: bytes.base64EncodedString(), signature: signed.signature)
        #expect(throws: ModelSignatureError.badSignature("the manifest's signature is not the city's (signed with another key, or changed)")) {
            try altered.open(publicKey: Self.key.publicKey)
        }
        var signature = try #require(Data(base64Encoded: signed.signature))
        signature[0] ^= 1
        let badSignature = SignedManifest(manifest: signed.manifest, signature: signature.base64EncodedString())
        #expect(throws: ModelSignatureError.self) { try badSignature.open(publicKey: Self.key.publicKey) }
        #expect(throws: ModelSignatureError.self) { try SignedManifest(manifest: "%%%", signature: "x").open(publicKey: Self.key.publicKey) }
        #expect(throws: ModelSignatureError.self) { try ModelSigningKey.publicKey(base64: "c2hvcnQ=") }
    }

    @Test func aSignedButNonsensicalManifestIsRefused() throws {
        var bad = Self.manifest
        bad.size = 0
        #expect(throws: ModelSignatureError.malformed("the manifest is not valid: size 0 is out of range")) {
            try SignedManifest.sign(bad, with: Self.key).open(publicKey: Self.key.publicKey)
        }
        // Found by the fuzzer: two answers for one photo made the trial's verdict depend on which was read.
        bad = Self.manifest
        bad.answers.append(Self.answers[1])
        #expect(throws: ModelSignatureError.malformed("the manifest is not valid: trial photo metal.jpg is answered twice")) {
            try SignedManifest.sign(bad, with: Self.key).open(publicKey: Self.key.publicKey)
        }
        for change in [{ (a: inout ModelManifest.Answer) in a.photo = "../etc/passwd" }, { $0.label = "unknown" },
                       { $0.probability = 1.5 }, { $0.photoSHA256 = "ab" }] {
            bad = Self.manifest
            change(&bad.answers[0])
            #expect(throws: ModelSignatureError.self) { try SignedManifest.sign(bad, with: Self.key).open(publicKey: Self.key.publicKey) }
        }
        bad = Self.manifest
        bad.version = "not-a-digest"
        #expect(throws: ModelSignatureError.self) { try SignedManifest.sign(bad, with: Self.key).open(publicKey: Self.key.publicKey) }
    }

    @Test func trialAnswersAgreeWithinTheToleranceAndNotBeyond() {
        #expect(Self.manifest.disagreement(with: Self.answers) == nil)
        var close = Self.answers
        close[1].probability += 0.02
        #expect(Self.manifest.disagreement(with: close) == nil, "int8 rounding on another CPU")
        var far = Self.answers
        far[1].probability -= 0.1
        #expect(Self.manifest.disagreement(with: far) == "on metal.jpg it is 54% sure, the manifest says 64%")
        var other = Self.answers
        other[0].label = "plastic"
        #expect(Self.manifest.disagreement(with: other) == "on glass.jpg it answers plastic, the manifest says glass")
        var photo = Self.answers
        photo[0].photoSHA256 = String(repeating: "ee", count: 32)
        #expect(Self.manifest.disagreement(with: photo) == "trial photo glass.jpg is not the picture the manifest was made with")
        #expect(Self.manifest.disagreement(with: [Self.answers[0]]) == "trial photo metal.jpg was not judged")
    }
}
