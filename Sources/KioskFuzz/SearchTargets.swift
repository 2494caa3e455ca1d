import KioskCore

/// What residents type into the item search (`GET /api/v1/items?q=`), straight from the internet.
enum SearchTargets {
    /// A few items in both scripts, with pinyin, so every kind of match is reachable.
    static let search = ItemSearch(items: [
        CatalogueItem(category: .hazardous, name: .init(zh: "废电池", en: "Used battery"),
                      aliases: .init(zh: ["电池", "纽扣电池"], en: ["battery", "button cell"]),
                      pinyin: ["fei dian chi", "dian chi", "niu kou dian chi"]),
        CatalogueItem(category: .recyclable, name: .init(zh: "易拉罐", en: "Drink can"), aliases: .init(zh: ["铝罐"], en: []),
                      pinyin: ["yi la guan", "lv guan"]),
        CatalogueItem(category: .bulky, name: .init(zh: "沙发", en: "Sofa"), pinyin: ["sha fa"]),
        CatalogueItem(category: .hazardous, name: .init(zh: "84消毒液", en: "Bleach"), pinyin: ["84 xiao du ye"]),
    ])

    static let items = FuzzTarget(name: "items", summary: "the residents' item search query (ItemSearch)") { bytes in
        let query = String(decoding: bytes, as: UTF8.self)
        let normalized = ItemSearch.normalized(query)
        require(ItemSearch.normalized(normalized) == normalized, "normalizing twice changes \(normalized.debugDescription)")
        let limit = Int(bytes.first ?? 0) % 6
        let matches = search.search(query, limit: limit)
        require(matches.count <= limit, "\(matches.count) matches for a limit of \(limit)")
        require(zip(matches, matches.dropFirst()).allSatisfy { $0.score >= $1.score }, "matches not best first")
        require(matches.allSatisfy { (40...100).contains($0.score) }, "a score outside 40-100")
        require(Set(matches.map(\.item.name.zh)).count == matches.count, "an item listed twice")
        require(search.search(query, limit: limit) == matches, "the same query answered differently")
        if normalized.isEmpty { require(matches.isEmpty, "a blank query matched") }
        return !matches.isEmpty
    }
}
