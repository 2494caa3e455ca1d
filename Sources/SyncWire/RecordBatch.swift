#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore

/// `POST /api/v1/records`: a kiosk's batch of scan records and quiz answers. Their ids are the idempotency keys.
public struct RecordBatch: Sendable, Equatable, Codable {
    /// The most records one request may carry.
    public static let maximumRecords = 500
    /// The most bytes one request body may have (after gzip decoding); thumbnails are small JPEGs.
    public static let maximumBodyBytes = 16 << 20

    public var kiosk: String
    public var records: [ScanRecord]
    /// Quiz answers given at the kiosk (at most `maximumRecords`); absent from older kiosks. The server answers
    /// for them in the same `results`, by id.
    public var quiz: [QuizAnswer]?
    /// Field photos (opt-in on the kiosk; at most `maximumPhotos`); absent from older kiosks and when there are
    /// none. Answered for in the same `results`, by id.
    public var photos: [FieldPhoto]?

    /// The most field photos one request may carry (40 × 256 KB, base64: about 14 MB, under the body limit).
    public static let maximumPhotos = 40

    public init(kiosk: String, records: [ScanRecord], quiz: [QuizAnswer]? = nil, photos: [FieldPhoto]? = nil) {
        self.kiosk = kiosk
        self.records = records
        self.quiz = quiz
        self.photos = photos
    }
}

/// The server's answer to a batch: one result per record, in the batch's order.
public struct BatchResponse: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// Stored now.
        case accepted
        /// Already held (delivered before, or imported from a bundle): nothing changed.
        case duplicate
    }

    public struct Result: Sendable, Equatable, Codable {
        public var id: UUID
        public var status: Outcome

        public init(id: UUID, status: Outcome) {
            self.id = id
            self.status = status
        }
    }

    public var results: [Result]

    public init(results: [Result]) { self.results = results }

    public var accepted: Int { results.count { $0.status == .accepted } }
    public var duplicates: Int { results.count { $0.status == .duplicate } }
}

/// The body of every 4xx/5xx answer.
public struct ErrorResponse: Sendable, Equatable, Codable {
    public var error: String
    /// The one record a 400 is about, when the server could tell: the kiosk sets that record aside and sends the
    /// others, so one record the server cannot take does not hold back every record after it.
    public var record: UUID?

    public init(error: String, record: UUID? = nil) {
        self.error = error
        self.record = record
    }
}

/// `GET /api/v1/enrollment`'s answer: the kiosk the bearer token belongs to, and the city's model-signing public
/// key (base64) when the server has one, which the kiosk keeps to check the models it is sent.
public struct EnrollmentAnswer: Sendable, Equatable, Codable {
    public var kiosk: String
    public var modelKey: String?

    public init(kiosk: String, modelKey: String? = nil) {
        self.kiosk = kiosk
        self.modelKey = modelKey
    }

    enum CodingKeys: String, CodingKey {
        case kiosk
        case modelKey = "model_key"
    }
}

/// One JSON coder setup for both ends.
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder { JSONDecoder() }
}
