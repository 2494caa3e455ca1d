import KioskCore

/// Identifies one scan from the tap that started it to the record that ends it.
public struct ScanID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { "scan \(value)" }
}

/// What the resident settled on: an item (a model label) or, from "browse categories", a bin; written into the
/// scan record as its correction.
public typealias Choice = Correction

/// Something that keeps the kiosk from scanning, in the order the screen shows them.
public enum Problem: Int, Hashable, Sendable, CaseIterable, Comparable {
    case model
    case camera
    case storage

    public static func < (a: Problem, b: Problem) -> Bool { a.rawValue < b.rawValue }
}

/// The screen the resident sees.
public enum Screen: Hashable, Sendable {
    /// Live picture, "tap to scan", today's counts.
    case ready
    /// The frame is frozen while the model runs.
    case scanning(ScanID)
    /// The frame showed only the empty tray: ask for the item.
    case emptyTray
    /// The answer: the model's (`corrected` false) or the resident's choice.
    case result(ScanID, shown: Choice, corrected: Bool)
    /// Low confidence: the best guesses as buttons.
    case notSure(ScanID)
    /// All six bins to pick from.
    case browse(ScanID)
    /// Ready is not possible now; a calm message and a technician hint.
    case problem(Problem)
    /// The six bins with their common items ("Learn" on Ready).
    case learn
}

/// Ready's lower band: the prompt to scan or, while nobody scans, short lessons and quiz questions in turn.
public enum ReadyBand: Hashable, Sendable {
    case prompt
    /// `ScreenMachine.lessons[index]`
    case lesson(Int)
    /// `ScreenMachine.questions[index]`, waiting for an answer.
    case question(Int)
    /// The question answered with this bin: right or wrong, and why.
    case answered(Int, WasteCategory)
}

/// What a tap means on the current screen (from `ScreenLayout.action(at:)`).
public enum ScreenAction: Hashable, Sendable {
    case scan
    case toggleLanguage
    case done
    case notRight
    case choose(String)
    case browse
    case chooseCategory(WasteCategory)
    case back
    /// The result's look-alike line: the item is the look-alike (e.g. a spray can, not metal): its bin instead.
    case chooseLookAlike
    /// Ready: open the Learn screen.
    case learn
    /// Ready's quiz question answered with this bin.
    case answerQuiz(WasteCategory)
}

/// A quiz question answered at the kiosk, to be stored as a record.
public struct QuizOutcome: Sendable, Equatable {
    /// `QuizQuestion.id`
    public var question: String
    public var answer: WasteCategory
    public var right: Bool
    public var language: Language

    public init(question: String, answer: WasteCategory, right: Bool, language: Language) {
        self.question = question
        self.answer = answer
        self.right = right
        self.language = language
    }
}

/// A finished interaction, to be stored as a scan record.
public struct ScanOutcome: Sendable, Equatable {
    public var scan: ScanID
    public var classification: Classification
    /// The language on screen when the interaction ended.
    public var language: Language
    /// The resident's choice when it differs from the model's answer.
    public var correction: Choice?
    /// Whether the kiosk was not sure and asked (the not-sure screen came up by itself, not by "Not right?").
    public var asked: Bool
    /// What the resident ended on: the answer on the result screen when they finished there (the model's own,
    /// confirmed, or their correction); nil when they left from the not-sure or browse screen without choosing.
    public var settled: Choice?

    public init(scan: ScanID, classification: Classification, language: Language, correction: Choice?, asked: Bool = false,
                settled: Choice? = nil) {
        self.scan = scan
        self.classification = classification
        self.language = language
        self.correction = correction
        self.asked = asked
        self.settled = settled
    }
}
