import Crypto
import Foundation
import Imaging
import KioskCore
import SyncWire

/// The server's rules for a batch, apart from HTTP: who may send what, and what a well-formed batch is.
public struct Ingest: Sendable {
    public let store: CentralStore
    public let clock: @Sendable () -> Int64

    public init(store: CentralStore, clock: @escaping @Sendable () -> Int64 = { WallClock.nowMilliseconds }) {
        self.store = store
        self.clock = clock
    }

    /// SHA-256 hex of a token: what the server stores.
    public static func hash(token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// A new random token (256 bits, hex).
    public static func newToken() -> String {
        var g = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case unauthorized(String)
        case forbidden(String)
        case badRequest(String)
        /// One record of the batch is not acceptable (the batch as a whole is refused, like any 400).
        case badRecord(UUID, String)
        case tooLarge(String)
        /// The store failed: the HTTP layer's answer depends on how (see `StorageStatus`).
        case storage(CentralError)

        public var description: String {
            switch self {
            case .unauthorized(let m), .forbidden(let m), .badRequest(let m), .badRecord(_, let m), .tooLarge(let m): m
            case .storage(let e): "storage: \(e)"
            }
        }
    }

    /// The kiosk a bearer token authenticates.
    public func authenticate(authorization: String?) async throws(Rejection) -> String {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else {
            throw .unauthorized("missing bearer token (Authorization: Bearer TOKEN)")
        }
        let token = String(authorization.dropFirst(7))
        let kiosk: String?
        do {
            kiosk = try await store.kiosk(forTokenHash: Self.hash(token: token))
        } catch {
            throw .storage(error)
        }
        guard let kiosk else { throw .unauthorized("unknown token") }
        return kiosk
    }

    /// Parses, checks and stores a batch body (already gunzipped) from an authenticated kiosk.
    public func accept(body: [UInt8], from kiosk: String) async throws(Rejection) -> BatchResponse {
        let batch: RecordBatch
        do {
            batch = try WireJSON.decoder().decode(RecordBatch.self, from: Data(body))
        } catch {
            let message = "malformed batch: \(Self.describe(error))"
            if let id = Self.recordID(at: error, in: body) { throw .badRecord(id, message) }
            throw .badRequest(message)
        }
        return try await store(batch, from: kiosk)
    }

    /// Checks and stores a batch from an authenticated kiosk: the one path records take into the store, over
    /// HTTP or from an offline bundle.
    public func store(_ batch: RecordBatch, from kiosk: String) async throws(Rejection) -> BatchResponse {
        try check(batch, from: kiosk)
        do {
            let now = clock()
            let records = try await store.ingest(batch.records, receivedAtMilliseconds: now)
            let quiz = try await store.ingest(quiz: batch.quiz ?? [], receivedAtMilliseconds: now)
            let photos = try await store.ingest(photos: batch.photos ?? [], receivedAtMilliseconds: now)
            return BatchResponse(results: records + quiz + photos)
        } catch .invalid(let message) {
            throw .badRequest(message)
        } catch {
            throw .storage(error)
        }
    }

    public func check(_ batch: RecordBatch, from kiosk: String) throws(Rejection) {
        guard batch.records.count <= RecordBatch.maximumRecords else {
            throw .tooLarge("batch of \(batch.records.count) records; at most \(RecordBatch.maximumRecords)")
        }
        guard batch.kiosk == kiosk else { throw .forbidden("this token belongs to \(kiosk), not \(batch.kiosk)") }
        if let other = batch.records.first(where: { $0.kiosk != kiosk }) {
            throw .forbidden("record \(other.id) belongs to \(other.kiosk), not \(kiosk)")
        }
        for (i, r) in batch.records.enumerated() {
            guard !r.label.isEmpty, r.label.count <= 64, (0...1).contains(r.confidence), r.sequence > 0,
                r.top.count <= 10
            else { throw .badRecord(r.id, "record \(i) (\(r.id)) has an empty label, a confidence outside 0-1 or no sequence") }
            guard r.top.allSatisfy({ (0...1).contains($0.p) }) else {
                throw .badRecord(r.id, "record \(i) (\(r.id)) has a top guess with a probability outside 0-1")
            }
        }
        let quiz = batch.quiz ?? []
        guard quiz.count <= RecordBatch.maximumRecords else {
            throw .tooLarge("batch of \(quiz.count) quiz answers; at most \(RecordBatch.maximumRecords)")
        }
        if let other = quiz.first(where: { $0.kiosk != kiosk }) {
            throw .forbidden("quiz answer \(other.id) belongs to \(other.kiosk), not \(kiosk)")
        }
        if let bad = quiz.first(where: { $0.problem != nil }), let problem = bad.problem { throw .badRecord(bad.id, problem) }
        let photos = batch.photos ?? []
        guard photos.count <= RecordBatch.maximumPhotos else {
            throw .tooLarge("batch of \(photos.count) field photos; at most \(RecordBatch.maximumPhotos)")
        }
        if let other = photos.first(where: { $0.kiosk != kiosk }) {
            throw .forbidden("field photo \(other.id) belongs to \(other.kiosk), not \(kiosk)")
        }
        for photo in photos {
            if let problem = photo.problem { throw .badRecord(photo.id, problem) }
            if let problem = Self.pictureProblem(photo) { throw .badRecord(photo.id, problem) }
        }
    }

    /// The most pixels a field photo's side may have (the kiosk sends 224 px crops).
    static let maximumPhotoSide = 1024

    /// Whether a field photo's JPEG decodes to a sensible picture: what training will read must be a picture.
    static func pictureProblem(_ photo: FieldPhoto) -> String? {
        let name = "field photo \(photo.id.uuidString.lowercased())"
        do {
            let bytes = [UInt8](photo.jpeg)
            let header = try ImageDecoder.header(bytes, source: name)
            guard header.format == .jpeg else { return "\(name): not a JPEG" }
            guard (16...maximumPhotoSide).contains(header.width), (16...maximumPhotoSide).contains(header.height) else {
                return "\(name) is \(header.width)x\(header.height); each side must be 16 to \(maximumPhotoSide) pixels"
            }
            _ = try JPEGDecoder().decode(bytes, source: name)
            return nil
        } catch {
            return error.description
        }
    }

    /// The id of the record a decoding error is inside (`records[i]…`), when that record's id itself is readable.
    static func recordID(at error: Error, in body: [UInt8]) -> UUID? {
        guard let e = error as? DecodingError else { return nil }
        let context: DecodingError.Context
        switch e {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): context = c
        @unknown default: return nil
        }
        let path = context.codingPath
        guard path.count >= 2, ["records", "quiz", "photos"].contains(path[0].stringValue), let index = path[1].intValue
        else { return nil }
        struct IDs: Decodable {
            struct Record: Decodable { var id: UUID? }
            var records: [Record]
            var quiz: [Record]?
            var photos: [Record]?
        }
        guard let ids = try? WireJSON.decoder().decode(IDs.self, from: Data(body)) else { return nil }
        let list = switch path[0].stringValue {
        case "records": ids.records
        case "quiz": ids.quiz ?? []
        default: ids.photos ?? []
        }
        return list.indices.contains(index) ? list[index].id : nil
    }

    /// DecodingError in one line, naming the field.
    static func describe(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch e {
        case .dataCorrupted(let c): return "\(path(c).isEmpty ? "body" : path(c)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "\(path(c)).\(k.stringValue) is missing"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
