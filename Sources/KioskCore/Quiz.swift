/// A quiz question: an item and the bin it goes in, with the reason shown at once after an answer. The six bins
/// are the choices.
public struct QuizQuestion: Sendable, Codable, Hashable {
    /// Stable across catalogue versions: answers are recorded and counted by it.
    public var id: String
    public var answer: WasteCategory
    public var question: LocalizedText
    public var reason: LocalizedText

    public init(id: String, answer: WasteCategory, question: LocalizedText, reason: LocalizedText) {
        self.id = id
        self.answer = answer
        self.question = question
        self.reason = reason
    }
}

/// A short lesson about one bin, for the idle screen's band and the resident page.
public struct Lesson: Sendable, Codable, Hashable {
    public var category: WasteCategory
    public var text: LocalizedText

    public init(category: WasteCategory, text: LocalizedText) {
        self.category = category
        self.text = text
    }
}

/// How well a learner (or a community) knows a bin, from the share of quiz answers that were right: the original
/// design's levels.
public enum Mastery: String, Sendable, Codable, CaseIterable {
    /// ≥ 80 %
    case mastered
    /// ≥ 60 %
    case proficient
    /// below 60 %
    case needsWork = "needs_work"

    public init(right: Int, of answered: Int) {
        let share = answered > 0 ? Double(right) / Double(answered) : 0
        self = share >= 0.8 ? .mastered : share >= 0.6 ? .proficient : .needsWork
    }

    public var name: LocalizedText {
        switch self {
        case .mastered: LocalizedText(zh: "精通", en: "Mastered")
        case .proficient: LocalizedText(zh: "熟练", en: "Proficient")
        case .needsWork: LocalizedText(zh: "需加强", en: "Needs work")
        }
    }
}

extension QuizQuestion {
    /// Whether `id` can be a question's id: 1-64 lowercase letters, digits and '-'.
    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// What is wrong with this question, or nil.
    func problem() -> String? {
        if !Self.isValidID(id) {
            return "quiz question \"\(id)\": the id must be 1-64 lowercase letters, digits and '-'"
        }
        if question.zh.isBlank || question.en.isBlank { return "quiz question \(id): the question is empty in a language" }
        if reason.zh.isBlank || reason.en.isBlank { return "quiz question \(id): the reason is empty in a language" }
        return nil
    }
}
