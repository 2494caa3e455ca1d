/// A language the kiosk shows its text in.
public enum Language: String, CaseIterable, Sendable, Codable, Hashable {
    case zh
    case en
}

/// A piece of text in every language the kiosk shows.
public struct LocalizedText: Sendable, Codable, Hashable {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }

    public subscript(language: Language) -> String {
        switch language {
        case .zh: zh
        case .en: en
        }
    }
}

/// Lines of text (e.g. disposal guidance) in every language the kiosk shows.
public struct LocalizedLines: Sendable, Codable, Hashable {
    public var zh: [String]
    public var en: [String]

    public init(zh: [String], en: [String]) {
        self.zh = zh
        self.en = en
    }

    public subscript(language: Language) -> [String] {
        switch language {
        case .zh: zh
        case .en: en
        }
    }
}
