import Crypto
import KioskCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the central server says about a model it sends to kiosks: which file (its version is the model file's
/// own SHA-256, the one `kiosk model info` prints and records carry the first 16 digits of), how big, its labels,
/// and the answers it gives the trial photos. A kiosk runs a downloaded model on the same photos and installs it
/// only when it answers the same.
public struct ModelManifest: Sendable, Equatable, Codable {
    public struct Answer: Sendable, Equatable, Codable {
        /// The trial photo's file name, and its SHA-256 (hex) so that both ends judge the same picture.
        public var photo: String
        public var photoSHA256: String
        public var label: String
        public var probability: Double

        public init(photo: String, photoSHA256: String, label: String, probability: Double) {
            self.photo = photo
            self.photoSHA256 = photoSHA256
            self.label = label
            self.probability = probability
        }

        enum CodingKeys: String, CodingKey {
            case photo, label, probability
            case photoSHA256 = "photo_sha256"
        }
    }

    /// How far a kiosk's top-1 probability may be from the manifest's: int8 kernels round differently on arm64
    /// and x86 (measured: identical on the fixture photos), a damaged or different model is far off.
    public static let probabilityTolerance = 0.03

    public var version: String
    public var size: Int
    public var labels: [String]
    public var answers: [Answer]
    public var notes: String?
    public var createdAtMilliseconds: Int64

    public init(version: String, size: Int, labels: [String], answers: [Answer], notes: String?, createdAtMilliseconds: Int64) {
        self.version = version
        self.size = size
        self.labels = labels
        self.answers = answers
        self.notes = notes
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case version, size, labels, answers, notes
        case createdAtMilliseconds = "created_at_ms"
    }

    /// The first difference between the manifest's answers and a trial's, nil when they agree.
    public func disagreement(with trial: [Answer]) -> String? {
        let measured = Dictionary(trial.map { ($0.photo, $0) }, uniquingKeysWith: { a, _ in a })
        for expected in answers {
            guard let got = measured[expected.photo] else { return "trial photo \(expected.photo) was not judged" }
            guard got.photoSHA256 == expected.photoSHA256 else {
                return "trial photo \(expected.photo) is not the picture the manifest was made with"
            }
            guard got.label == expected.label else {
                return "on \(expected.photo) it answers \(got.label), the manifest says \(expected.label)"
            }
            guard abs(got.probability - expected.probability) <= Self.probabilityTolerance else {
                return "on \(expected.photo) it is \(Int((got.probability * 100).rounded()))% sure, the manifest says "
                    + "\(Int((expected.probability * 100).rounded()))%"
            }
        }
        return nil
    }

    /// Checks the fields a kiosk relies on before it downloads anything.
    public func problem() -> String? {
        guard version.count == 64, Hex.decode(version) != nil else { return "version \(version.prefix(80)) is not a SHA-256" }
        guard size > 0, size <= Self.maximumSize else { return "size \(size) is out of range" }
        guard !labels.isEmpty else { return "it lists no labels" }
        guard !answers.isEmpty else { return "it lists no trial answers" }
        // One answer per photo, each a plain file name with its digest, a label of the model and a probability:
        // two answers for one photo would make the trial's verdict depend on which is read (found by the fuzzer).
        var photos = Set<String>()
        for a in answers {
            guard !a.photo.isEmpty, a.photo.utf8.count <= 255, !a.photo.contains("/"), a.photo != "..", a.photo != "." else {
                return "trial photo \(a.photo.prefix(80).debugDescription) is not a plain file name"
            }
            guard photos.insert(a.photo).inserted else { return "trial photo \(a.photo) is answered twice" }
            guard a.photoSHA256.count == 64, Hex.decode(a.photoSHA256) != nil else { return "trial photo \(a.photo): its digest is not a SHA-256" }
            guard labels.contains(a.label) else { return "trial photo \(a.photo): label \(a.label.prefix(80)) is not one of the model's" }
            guard a.probability.isFinite, (0...1).contains(a.probability) else { return "trial photo \(a.photo): probability out of range" }
        }
        return nil
    }

    /// Larger than any ResNet50 int8 file (24 MB) by far; a manifest saying more is refused before downloading.
    public static let maximumSize = 256 << 20
}

/// A manifest with the city's Ed25519 signature over its exact bytes. The bytes travel as base64 so that
/// re-encoding JSON on the way can never change what was signed.
public struct SignedManifest: Sendable, Equatable, Codable {
    public var manifest: String
    public var signature: String

    public init(manifest: String, signature: String) {
        self.manifest = manifest
        self.signature = signature
    }

    public static func sign(_ manifest: ModelManifest, with key: Curve25519.Signing.PrivateKey) throws -> SignedManifest {
        let bytes = try WireJSON.encoder().encode(manifest)
        let signature = try key.signature(for: bytes)
        return SignedManifest(manifest: bytes.base64EncodedString(), signature: Data(signature).base64EncodedString())
    }

    /// The manifest, once its signature is checked against the city's public key.
    public func open(publicKey: Curve25519.Signing.PublicKey) throws(ModelSignatureError) -> ModelManifest {
        guard let bytes = Data(base64Encoded: manifest), let signature = Data(base64Encoded: signature) else {
            throw .malformed("the manifest or its signature is not base64")
        }
        guard publicKey.isValidSignature(signature, for: bytes) else {
            throw .badSignature("the manifest's signature is not the city's (signed with another key, or changed)")
        }
        return try Self.decode(bytes)
    }

    /// The manifest without checking its signature: only for `kiosk model install --unsigned` and for display.
    public func unverified() throws(ModelSignatureError) -> ModelManifest {
        guard let bytes = Data(base64Encoded: manifest) else { throw .malformed("the manifest is not base64") }
        return try Self.decode(bytes)
    }

    private static func decode(_ bytes: Data) throws(ModelSignatureError) -> ModelManifest {
        let decoded: ModelManifest
        do {
            decoded = try WireJSON.decoder().decode(ModelManifest.self, from: bytes)
        } catch {
            throw .malformed("the manifest is not valid: \(error)")
        }
        if let problem = decoded.problem() { throw .malformed("the manifest is not valid: \(problem)") }
        return decoded
    }
}

/// The city's model-signing public key as kiosks store it: base64 of the 32 raw bytes.
public enum ModelSigningKey {
    public static func publicKey(base64 text: String) throws(ModelSignatureError) -> Curve25519.Signing.PublicKey {
        let trimmed = String(text.filter { !$0.isWhitespace })
        guard let raw = Data(base64Encoded: trimmed), raw.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { throw .malformed("the signing key is not a base64 Ed25519 public key (32 bytes)") }
        return key
    }

    public static func base64(_ key: Curve25519.Signing.PublicKey) -> String { key.rawRepresentation.base64EncodedString() }
}

public enum ModelSignatureError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case badSignature(String)

    public var description: String {
        switch self {
        case .malformed(let m), .badSignature(let m): return m
        }
    }
}

/// `GET /api/v1/model`'s answer: the model assigned to the asking kiosk.
public struct ModelAssignment: Sendable, Equatable, Codable {
    public var signed: SignedManifest
    /// Where to download the file (relative to the server's base URL).
    public var path: String

    public init(signed: SignedManifest, path: String) {
        self.signed = signed
        self.path = path
    }
}
