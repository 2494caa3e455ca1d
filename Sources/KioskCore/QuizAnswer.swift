#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A quiz question answered at a kiosk: kept on the kiosk until the central server has it, like a scan.
public struct QuizAnswer: Sendable, Equatable, Codable {
    /// The idempotency key, as a scan record's.
    public var id: UUID
    public var kiosk: String
    /// Wall-clock time (UTC, milliseconds since 1970).
    public var answeredAtMilliseconds: Int64
    /// `QuizQuestion.id`
    public var question: String
    /// The bin the resident tapped.
    public var answer: WasteCategory
    public var right: Bool
    public var language: Language

    public init(id: UUID = UUID(), kiosk: String, answeredAtMilliseconds: Int64, question: String, answer: WasteCategory,
                right: Bool, language: Language) {
        self.id = id
        self.kiosk = kiosk
        self.answeredAtMilliseconds = answeredAtMilliseconds
        self.question = question
        self.answer = answer
        self.right = right
        self.language = language
    }

    enum CodingKeys: String, CodingKey {
        case id, kiosk, question, answer, right, language
        case answeredAtMilliseconds = "answered_at_ms"
    }

    /// What is wrong with an answer received from outside, or nil.
    public var problem: String? {
        if !QuizQuestion.isValidID(question) {
            return "quiz answer \(id.uuidString.lowercased()): question \"\(question.prefix(80))\" is not a quiz question id"
        }
        if answeredAtMilliseconds <= 0 { return "quiz answer \(id.uuidString.lowercased()): answered_at_ms must be positive" }
        return nil
    }
}
