#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How one bin looks and what residents are told about it.
public struct CategoryInfo: Sendable, Codable, Hashable {
    public var id: WasteCategory
    public var name: LocalizedText
    /// Colour as `#RRGGBB` (GB/T 19095-2019 for the four standard bins).
    public var color: String
    /// Icon file name under `Resources/icons`.
    public var icon: String
    public var guidance: LocalizedLines
    /// Points a resident earns for claiming one scan answered with this bin (0 or absent: no points, no code).
    public var points: Int?
}

/// What a model label means: its bin, a readable item name and item-level guidance.
public struct LabelInfo: Sendable, Codable, Hashable {
    public var category: WasteCategory
    public var name: LocalizedText
    /// Item-specific guidance; when empty the category's guidance is shown.
    public var guidance: LocalizedLines?
}

/// The catalogue a city can edit: categories, their guidance, and the mapping from model labels to bins.
public struct Catalogue: Sendable, Codable {
    public var version: Int
    public var categories: [CategoryInfo]
    public var labels: [String: LabelInfo]
    /// The kiosk screens' own words (prompts, buttons, problem messages) by key; checked by the app at start.
    public var messages: [String: LocalizedText]?
    /// Rules against harmful answers (bin guards, look-alikes); none when absent.
    public var safety: SafetyRules?
    /// Common items per bin, for the Learn screen and the residents' search; none when absent.
    public var items: [CatalogueItem]?
    /// Quiz questions for the idle screen and the resident page; none when absent.
    public var quiz: [QuizQuestion]?
    /// Short lessons per bin; none when absent.
    public var lessons: [Lesson]?

    public var safetyRules: SafetyRules { safety ?? .none }

    /// The guidance shown for an answer: a few lines for that item and its bin.
    public struct Guidance: Sendable, Hashable {
        public var category: CategoryInfo
        public var itemName: String
        public var lines: [String]
    }

    /// Decodes and validates a catalogue.
    /// - Throws: `CatalogueError` naming what is wrong.
    public init(json: [UInt8], source: String) throws(CatalogueError) {
        let decoded: Catalogue
        do {
            decoded = try JSONDecoder().decode(Catalogue.self, from: Data(json))
        } catch {
            throw .malformed(source: source, reason: String(describing: error))
        }
        self = decoded
        try validate(source: source)
    }

    private func validate(source: String) throws(CatalogueError) {
        for category in WasteCategory.allCases where !categories.contains(where: { $0.id == category }) {
            throw .invalid(source: source, reason: "category \(category.rawValue) is missing")
        }
        for info in categories {
            if !Self.isHexColor(info.color) {
                throw .invalid(source: source, reason: "category \(info.id.rawValue): color \(info.color) is not #RRGGBB")
            }
            if info.guidance.zh.isEmpty || info.guidance.en.isEmpty {
                throw .invalid(source: source, reason: "category \(info.id.rawValue): guidance is empty")
            }
            if let points = info.points, !(0...Self.maximumPoints).contains(points) {
                throw .invalid(source: source, reason: "category \(info.id.rawValue): points must be 0 to \(Self.maximumPoints), not \(points)")
            }
        }
        if let problem = safetyRules.problems(labels: labels).first {
            throw .invalid(source: source, reason: "safety: \(problem)")
        }
        var names = Set<String>()
        for item in items ?? [] {
            if let problem = item.problem() { throw .invalid(source: source, reason: problem) }
            if !names.insert(item.name.zh).inserted { throw .invalid(source: source, reason: "item \(item.name.zh) is listed twice") }
        }
        var ids = Set<String>()
        for question in quiz ?? [] {
            if let problem = question.problem() { throw .invalid(source: source, reason: problem) }
            if !ids.insert(question.id).inserted { throw .invalid(source: source, reason: "quiz question \(question.id) is listed twice") }
        }
        for lesson in lessons ?? [] where lesson.text.zh.isBlank || lesson.text.en.isBlank {
            throw .invalid(source: source, reason: "a lesson about \(lesson.category.rawValue) is empty in a language")
        }
    }

    private static func isHexColor(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        return scalars.count == 7 && scalars[0] == "#" && scalars.dropFirst().allSatisfy { $0.properties.isASCIIHexDigit }
    }

    /// The most points one scan may earn.
    public static let maximumPoints = 1000

    /// Points per bin for claimed scans (bins without points are left out).
    public var points: [WasteCategory: Int] {
        Dictionary(uniqueKeysWithValues: categories.compactMap { info in (info.points ?? 0) > 0 ? (info.id, info.points!) : nil })
    }

    public func info(for category: WasteCategory) -> CategoryInfo {
        // Validation guarantees every category is present.
        categories.first { $0.id == category }!
    }

    /// The bin for a model label, or nil when the catalogue does not know the label.
    public func category(forLabel label: String) -> WasteCategory? {
        labels[label]?.category
    }

    /// Labels of a model that this catalogue cannot map to a bin.
    public func unmappedLabels(_ modelLabels: [String]) -> [String] {
        modelLabels.filter { labels[$0] == nil }
    }

    /// An item's guidance followed by its bin's, at most four lines, in one language.
    public func guidance(for item: CatalogueItem, language: Language) -> [String] {
        lines(item.guidance, then: info(for: item.category), language: language)
    }

    /// Item lines first, then the bin's lines not already there; at most four.
    private func lines(_ item: LocalizedLines?, then category: CategoryInfo, language: Language) -> [String] {
        var lines = item?[language] ?? []
        for line in category.guidance[language] where lines.count < 4 && !lines.contains(line) {
            lines.append(line)
        }
        return Array(lines.prefix(4))
    }

    /// Item and bin guidance for a label, in one language; nil when the label is unknown.
    public func guidance(forLabel label: String, language: Language) -> Guidance? {
        guard let item = labels[label] else { return nil }
        let category = info(for: item.category)
        return Guidance(category: category, itemName: item.name[language], lines: lines(item.guidance, then: category, language: language))
    }
}

/// Why a catalogue could not be used.
public enum CatalogueError: Error, Sendable, CustomStringConvertible {
    case malformed(source: String, reason: String)
    case invalid(source: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let source, let reason): "catalogue \(source) is not valid JSON for a catalogue: \(reason)"
        case .invalid(let source, let reason): "catalogue \(source): \(reason)"
        }
    }
}
