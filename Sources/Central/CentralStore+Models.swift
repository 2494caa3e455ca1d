import Crypto
import Foundation
import KioskCore
import SyncWire

/// A model the server holds for kiosks (without its file's bytes).
public struct StoredModel: Sendable, Equatable {
    public var version: String
    public var size: Int
    public var signedManifest: SignedManifest
    public var notes: String?
    public var addedAtMilliseconds: Int64
}

/// One `model assign`: a version for one kiosk, a share of them, or all (share 100).
public struct ModelRollout: Sendable, Equatable {
    public var id: UUID
    public var version: String
    public var kiosk: String?
    public var sharePercent: Int
    public var createdAtMilliseconds: Int64

    public init(id: UUID, version: String, kiosk: String?, sharePercent: Int, createdAtMilliseconds: Int64) {
        self.id = id
        self.version = version
        self.kiosk = kiosk
        self.sharePercent = sharePercent
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    /// Whether this rollout covers the kiosk. A share is the kiosks whose bucket is below it; the bucket depends
    /// on the name alone, so widening a share from 10% to 50% keeps the first 10% on it.
    public func covers(_ name: String) -> Bool {
        if let kiosk { return kiosk == name }
        return Self.bucket(name) < sharePercent
    }

    /// A kiosk's place in 0..<100 for staged rollouts.
    public static func bucket(_ kiosk: String) -> Int {
        let digest = Array(SHA256.hash(data: Array("kiosk-rollout:\(kiosk)".utf8)))
        let value = digest[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Int(value % 100)
    }

    /// The model a kiosk should run: the newest rollout covering it decides (nil: none assigned).
    public static func assigned(to kiosk: String, in rollouts: [ModelRollout]) -> String? {
        rollouts.sorted { ($0.createdAtMilliseconds, $0.id.uuidString) > ($1.createdAtMilliseconds, $1.id.uuidString) }
            .first { $0.covers(kiosk) }?.version
    }
}

/// Models and their rollouts. The file lives in the database beside its manifest, so every server of a fleet
/// on one PostgreSQL serves the same bytes; the signing key does not (see `kiosk-central keys init`).
extension CentralStore {
    /// The public half of the city's model-signing key (base64), which `keys init` records for enrollment.
    public func modelSigningKey() async throws(CentralError) -> String? {
        try await database.query("SELECT value FROM server_settings WHERE key = 'model_signing_key'").first?.text(0)
    }

    public func setModelSigningKey(_ base64: String) async throws(CentralError) {
        try await database.execute("""
            INSERT INTO server_settings (key, value) VALUES ('model_signing_key', \(bind: .text(base64)))
            ON CONFLICT (key) DO UPDATE SET value = \(bind: .text(base64))
            """)
    }

    /// Stores a model and its signed manifest. Throws `.nameTaken` when that version is already held.
    public func addModel(_ manifest: ModelManifest, signed: SignedManifest, file: [UInt8]) async throws(CentralError) {
        let signedText: String
        do {
            signedText = String(decoding: try WireJSON.encoder().encode(signed), as: UTF8.self)
        } catch {
            throw .invalid("the signed manifest cannot be encoded: \(error)")
        }
        let rows = try await database.query("""
            INSERT INTO models (version, size, signed_manifest, notes, added_at_ms, file)
            VALUES (\(bind: .text(manifest.version)), \(bind: .integer(Int64(file.count))), \(bind: .text(signedText)),
                    \(bind: manifest.notes.map { .text($0) } ?? .null), \(bind: .integer(manifest.createdAtMilliseconds)),
                    \(bind: .blob(file)))
            ON CONFLICT (version) DO NOTHING RETURNING version
            """)
        if rows.isEmpty { throw .nameTaken("model \(manifest.version.prefix(16)) is already held") }
    }

    /// Every model held, oldest first.
    public func models() async throws(CentralError) -> [StoredModel] {
        try await database.query("SELECT version, size, signed_manifest, notes, added_at_ms FROM models ORDER BY added_at_ms, version")
            .map { (row) throws(CentralError) -> StoredModel in
                let text = try row.text(2)
                let signed: SignedManifest
                do {
                    signed = try WireJSON.decoder().decode(SignedManifest.self, from: Data(text.utf8))
                } catch {
                    throw .invalid("model \(try row.text(0).prefix(16)): its stored manifest cannot be read: \(error)")
                }
                return StoredModel(version: try row.text(0), size: Int(try row.int(1)), signedManifest: signed,
                                   notes: try row.optionalText(3), addedAtMilliseconds: try row.int(4))
            }
    }

    /// The one model whose version is or starts with `prefix` (at least 8 hex digits).
    public func model(matching prefix: String) async throws(CentralError) -> StoredModel {
        let lowered = prefix.lowercased()
        guard lowered.count >= 8, lowered.allSatisfy(\.isHexDigit) else {
            throw .invalid("model version \(prefix): give at least 8 hex digits of it (kiosk-central model list)")
        }
        let matches = try await models().filter { $0.version.hasPrefix(lowered) }
        guard let first = matches.first else { throw .notFound("no model \(prefix) (kiosk-central model list)") }
        guard matches.count == 1 else { throw .invalid("model version \(prefix) matches \(matches.count) models; give more digits") }
        return first
    }

    /// A model file's bytes, nil when the version is not held.
    public func modelFile(version: String) async throws(CentralError) -> [UInt8]? {
        try await database.query("SELECT file FROM models WHERE version = \(bind: .text(version))").first?.bytes(0)
    }

    /// Stages a rollout of a held model to one registered kiosk or a share of all (100: all).
    public func addRollout(version: String, kiosk: String?, sharePercent: Int, atMilliseconds now: Int64) async throws(CentralError) -> ModelRollout {
        guard (0...100).contains(sharePercent) else { throw .invalid("--share must be between 0 and 100, not \(sharePercent)") }
        if let kiosk, try await tokenHash(forKiosk: kiosk) == nil {
            throw .notFound("no kiosk named \(kiosk) is registered (kiosk-central device add \(kiosk))")
        }
        let rollout = ModelRollout(id: UUID(), version: version, kiosk: kiosk, sharePercent: kiosk == nil ? sharePercent : 100,
                                   createdAtMilliseconds: now)
        try await database.execute("""
            INSERT INTO model_rollouts (id, version, kiosk, share_percent, created_at_ms)
            VALUES (\(bind: .uuid(rollout.id)), \(bind: .text(version)), \(bind: kiosk.map { .text($0) } ?? .null),
                    \(bind: .integer(Int64(rollout.sharePercent))), \(bind: .integer(now)))
            """)
        return rollout
    }

    public func rollouts() async throws(CentralError) -> [ModelRollout] {
        try await database.query("SELECT id, version, kiosk, share_percent, created_at_ms FROM model_rollouts")
            .map { (row) throws(CentralError) -> ModelRollout in
                guard let id = UUID(uuidString: try row.text(0)) else { throw .invalid("model_rollouts: a bad id") }
                return ModelRollout(id: id, version: try row.text(1), kiosk: try row.optionalText(2),
                                    sharePercent: Int(try row.int(3)), createdAtMilliseconds: try row.int(4))
            }
    }

    /// The signed manifest of the model assigned to a kiosk, nil when none is.
    public func assignedModel(kiosk: String) async throws(CentralError) -> StoredModel? {
        guard let version = ModelRollout.assigned(to: kiosk, in: try await rollouts()) else { return nil }
        return try await models().first { $0.version == version }
    }

    /// Each registered kiosk with the model assigned to it and the one its newest records were made with (the
    /// first 16 digits of the version, as records carry it).
    public func fleetModels() async throws(CentralError) -> [(kiosk: String, assigned: String?, running: String?)] {
        let rollouts = try await rollouts()
        let running = Dictionary(
            try await database.query("SELECT kiosk, model_version FROM kiosk_state WHERE model_version IS NOT NULL")
                .map { (row) throws(CentralError) in (try row.text(0), try row.text(1)) },
            uniquingKeysWith: { a, _ in a })
        return try await database.query("SELECT name FROM devices ORDER BY name").map { (row) throws(CentralError) in
            let name = try row.text(0)
            return (name, ModelRollout.assigned(to: name, in: rollouts), running[name])
        }
    }
}
