/// Finds catalogue items by what a resident types: Chinese or English names and aliases, whole or in part, or
/// pinyin, whole ("dianchi"), in part ("dianc") or as initials ("dc"). Best matches first: an exact name before a
/// prefix before a part of a word; a name before an alias.
public struct ItemSearch: Sendable {
    /// Longer queries are refused by the API; no item name comes near it.
    public static let maximumQueryLength = 40

    public struct Match: Sendable, Hashable {
        public var item: CatalogueItem
        /// The name or alias the query matched, in the item's own script (for pinyin: the Chinese name).
        public var matched: String
        public var score: Int
    }

    private struct Term: Sendable {
        var text: String
        var isName: Bool
        var shown: String
    }

    private struct Entry: Sendable {
        var item: CatalogueItem
        var words: [Term]
        /// Syllables joined ("dianchi") and initials ("dc"), with the Chinese name they spell.
        var pinyin: [(joined: String, initials: String, shown: String, isName: Bool)]
    }

    private let entries: [Entry]

    public init(items: [CatalogueItem]) {
        entries = items.map { item in
            var words = [Term(text: Self.normalized(item.name.zh), isName: true, shown: item.name.zh),
                         Term(text: Self.normalized(item.name.en), isName: true, shown: item.name.en)]
            for alias in item.aliases?.zh ?? [] { words.append(Term(text: Self.normalized(alias), isName: false, shown: alias)) }
            for alias in item.aliases?.en ?? [] { words.append(Term(text: Self.normalized(alias), isName: false, shown: alias)) }
            let chinese = [item.name.zh] + (item.aliases?.zh ?? [])
            let pinyin = zip(item.pinyin, chinese).enumerated().map { index, pair in
                let syllables = pair.0.split(separator: " ")
                return (joined: syllables.joined(), initials: String(syllables.compactMap(\.first)), shown: pair.1,
                        isName: index == 0)
            }
            return Entry(item: item, words: words, pinyin: pinyin)
        }
    }

    /// The best `limit` matches for `query`, best first; none for a blank query.
    public func search(_ query: String, limit: Int = 10) -> [Match] {
        let q = Self.normalized(query)
        guard !q.isEmpty else { return [] }
        let compact = q.filter { $0 != " " }
        let isLatin = q.unicodeScalars.allSatisfy { $0.isASCII }
        var found: [(match: Match, order: Int)] = []
        for (order, entry) in entries.enumerated() {
            var best: (score: Int, shown: String)?
            func offer(_ score: Int, _ shown: String) {
                if score > (best?.score ?? 0) { best = (score, shown) }
            }
            for term in entry.words {
                let bonus = term.isName ? 5 : 0
                if term.text == q {
                    offer(95 + bonus, term.shown)
                } else if term.text.hasPrefix(q) && (!isLatin || q.count >= 2) {
                    offer(75 + bonus, term.shown)
                } else if isLatin {
                    // A Latin query matches the start of a word ("bott" in "plastic bottle"), or anywhere from
                    // three letters on; a plural finds the singular name.
                    if q.count >= 2 && term.text.split(separator: " ").contains(where: { $0.hasPrefix(q) }) {
                        offer(65 + bonus, term.shown)
                    } else if q.count >= 3 && Self.contains(term.text, q) {
                        offer(45 + bonus, term.shown)
                    } else if q.count >= 4, q.hasSuffix("s"), term.text.split(separator: " ").contains(where: { $0 == q.dropLast() }) {
                        offer(60 + bonus, term.shown)
                    }
                } else if Self.contains(term.text, q) {
                    offer(55 + bonus, term.shown)
                }
            }
            if isLatin && !compact.isEmpty {
                for p in entry.pinyin {
                    let bonus = p.isName ? 5 : 0
                    if p.joined == compact {
                        offer(85 + bonus, p.shown)
                    } else if compact.count >= 2 && p.initials == compact {
                        offer(70 + bonus, p.shown)
                    } else if compact.count >= 3 && p.joined.hasPrefix(compact) {
                        offer(60 + bonus, p.shown)
                    } else if compact.count >= 2 && p.initials.hasPrefix(compact) {
                        offer(40 + bonus, p.shown)
                    }
                }
            }
            if let best { found.append((Match(item: entry.item, matched: best.shown, score: best.score), order)) }
        }
        found.sort {
            if $0.match.score != $1.match.score { return $0.match.score > $1.match.score }
            if $0.match.item.name.zh.count != $1.match.item.name.zh.count { return $0.match.item.name.zh.count < $1.match.item.name.zh.count }
            return $0.order < $1.order
        }
        return found.prefix(max(0, limit)).map(\.match)
    }

    /// Whether `part` occurs in `text`, scalar by scalar. Not Foundation's `contains`: on Linux it crashes on text
    /// holding NUL characters (found by the `items` fuzz target: "电池" followed by NULs).
    static func contains(_ text: String, _ part: String) -> Bool {
        let t = Array(text.unicodeScalars), p = Array(part.unicodeScalars)
        guard !p.isEmpty else { return true }
        guard p.count <= t.count else { return false }
        for start in 0...(t.count - p.count) where t[start] == p[0] && t[start..<start + p.count].elementsEqual(p) {
            return true
        }
        return false
    }

    /// Lower case, full-width Latin folded to ASCII, ü as v, runs of spaces as one, trimmed.
    public static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.lowercased().unicodeScalars {
            var s = scalar
            if (0xFF01...0xFF5E).contains(s.value), let ascii = Unicode.Scalar(s.value - 0xFEE0) { s = ascii }
            if s == "ü" { s = "v" }
            if s.properties.isWhitespace {
                pendingSpace = !scalars.isEmpty
                continue
            }
            if pendingSpace { scalars.append(" "); pendingSpace = false }
            scalars.append(s)
        }
        return String(scalars)
    }
}
