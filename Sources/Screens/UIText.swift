import KioskCore

/// The kiosk's own words (prompts, buttons, problem messages), kept in the catalogue's `messages` next to the
/// guidance so that a city edits all text in one file, in both languages.
public enum UIText: String, CaseIterable, Sendable {
    case tapToScan = "tap_to_scan"
    case placeItem = "place_item"
    case scanning
    case done
    case notRight = "not_right"
    case confidence
    case notSureTitle = "not_sure_title"
    case browseCategories = "browse_categories"
    case chooseCategory = "choose_category"
    case back
    case emptyTrayTitle = "empty_tray_title"
    case emptyTrayHint = "empty_tray_hint"
    case today
    case problemCamera = "problem_camera"
    case problemModel = "problem_model"
    case problemStorage = "problem_storage"
    case problemHint = "problem_hint"
    case technician
    case correctedNote = "corrected_note"
    case learn
    case learnTitle = "learn_title"
    case lessonTitle = "lesson_title"
    case quizTitle = "quiz_title"
    case quizRight = "quiz_right"
    case quizWrong = "quiz_wrong"
    /// Under the claim QR code; "{points}" is replaced by the number.
    case claimPoints = "claim_points"

    /// Every message in both languages, checked once at start.
    public struct Table: Sendable {
        private let texts: [UIText: LocalizedText]

        /// - Throws: `CatalogueError` naming the first missing or empty message.
        public init(catalogue: Catalogue, source: String) throws(CatalogueError) {
            var texts: [UIText: LocalizedText] = [:]
            let messages = catalogue.messages ?? [:]
            for key in UIText.allCases {
                guard let text = messages[key.rawValue] else {
                    throw .invalid(source: source, reason: "messages.\(key.rawValue) is missing")
                }
                for language in Language.allCases where text[language].isEmpty {
                    throw .invalid(source: source, reason: "messages.\(key.rawValue).\(language.rawValue) is empty")
                }
                texts[key] = text
            }
            self.texts = texts
        }

        public subscript(key: UIText, language: Language) -> String { texts[key]![language] }
    }
}
