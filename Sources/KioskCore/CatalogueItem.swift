/// A common item residents ask about, beyond the model's labels: what the Learn screen lists per bin and what
/// the residents' search finds. Pinyin is data (scripts/catalogue/pinyin.py writes it), so searching by pinyin
/// needs no dictionary.
public struct CatalogueItem: Sendable, Codable, Hashable {
    public var category: WasteCategory
    public var name: LocalizedText
    /// Other names residents use ("电池" for 废电池); searched like the name.
    public var aliases: LocalizedLines?
    /// Toneless syllables separated by spaces, ü as v: the Chinese name's first, then each Chinese alias's.
    public var pinyin: [String]
    /// Item-specific guidance; the bin's guidance follows it.
    public var guidance: LocalizedLines?

    public init(category: WasteCategory, name: LocalizedText, aliases: LocalizedLines? = nil, pinyin: [String],
                guidance: LocalizedLines? = nil) {
        self.category = category
        self.name = name
        self.aliases = aliases
        self.pinyin = pinyin
        self.guidance = guidance
    }

    /// What is wrong with this item, or nil.
    func problem() -> String? {
        let label = "item \(name.zh.isEmpty ? name.en : name.zh)"
        if name.zh.isBlank || name.en.isBlank { return "\(label): a name is empty" }
        let zhAliases = aliases?.zh ?? []
        if zhAliases.contains(where: { $0.isBlank }) || (aliases?.en ?? []).contains(where: { $0.isBlank }) {
            return "\(label): an alias is empty"
        }
        if pinyin.count != 1 + zhAliases.count {
            return "\(label): pinyin has \(pinyin.count) entries for \(1 + zhAliases.count) Chinese names (run scripts/catalogue/pinyin.py)"
        }
        for entry in pinyin where entry.isEmpty || !entry.unicodeScalars.allSatisfy(Self.isPinyinScalar) {
            return "\(label): pinyin \"\(entry)\" is not lowercase letters, digits and spaces"
        }
        if let guidance, guidance.zh.isEmpty != guidance.en.isEmpty { return "\(label): guidance is missing a language" }
        return nil
    }

    private static func isPinyinScalar(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("0"..."9").contains(s) || s == " "
    }
}

extension String {
    /// Empty or only whitespace.
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
