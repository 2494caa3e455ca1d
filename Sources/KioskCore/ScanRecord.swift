#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One scan: what the kiosk answered for an item, kept on the kiosk until the central server has it.
public struct ScanRecord: Sendable, Equatable, Codable {
    public struct Guess: Sendable, Equatable, Codable {
        public var label: String
        public var p: Double

        public init(label: String, p: Double) {
            self.label = label
            self.p = p
        }
    }

    /// The idempotency key: the server stores each id once however often it is delivered.
    public var id: UUID
    public var kiosk: String
    /// Wall-clock time (UTC, milliseconds since 1970); may be wrong on a kiosk whose clock is off, so `sequence`
    /// orders the kiosk's records.
    public var capturedAtMilliseconds: Int64
    /// Monotonic per kiosk data folder, assigned by the store.
    public var sequence: Int64
    public var label: String
    public var category: WasteCategory
    public var confidence: Double
    public var top: [Guess]
    /// The model file's SHA-256 (first 16 hex digits).
    public var modelVersion: String
    public var language: Language
    /// The label the resident chose instead, when they corrected the answer.
    public var correction: String?
    /// Whether the kiosk showed its "not sure" screen (the answer was unclear); nil when not known (answers
    /// recorded without the screen, or by an older kiosk).
    public var asked: Bool?
    /// A small JPEG of the item; off by default (residents' hands and faces are private).
    public var thumbnail: Data?

    public init(
        id: UUID = UUID(), kiosk: String, capturedAtMilliseconds: Int64, sequence: Int64 = 0, label: String,
        category: WasteCategory, confidence: Double, top: [Guess], modelVersion: String, language: Language,
        correction: String? = nil, thumbnail: Data? = nil, asked: Bool? = nil
    ) {
        self.id = id
        self.kiosk = kiosk
        self.capturedAtMilliseconds = capturedAtMilliseconds
        self.sequence = sequence
        self.label = label
        self.category = category
        self.confidence = confidence
        self.top = top
        self.modelVersion = modelVersion
        self.language = language
        self.correction = correction
        self.thumbnail = thumbnail
        self.asked = asked
    }

    enum CodingKeys: String, CodingKey {
        case id, kiosk, sequence, label, category, confidence, top, language, correction, thumbnail, asked
        case capturedAtMilliseconds = "captured_at_ms"
        case modelVersion = "model_version"
    }
}
