import Foundation
import KioskCore
import Testing

/// The catalogue's items, quiz and lessons as shipped, and the validation a city's edit goes through.
struct CatalogueItemsTests {
    func shipped() throws -> Catalogue {
        try Catalogue(json: [UInt8](try Data(contentsOf: URL(fileURLWithPath: CatalogueTests.path))), source: "catalogue.json")
    }

    @Test func theShippedCatalogueTeachesEveryBin() throws {
        let catalogue = try shipped()
        let items = try #require(catalogue.items)
        let quiz = try #require(catalogue.quiz)
        let lessons = try #require(catalogue.lessons)
        #expect(quiz.count >= 40, "the issue asks for at least 40 questions")
        for category in WasteCategory.allCases {
            #expect(items.filter { $0.category == category }.count >= 8, "items for \(category)")
            #expect(quiz.filter { $0.answer == category }.count >= 6, "questions for \(category)")
            #expect(lessons.contains { $0.category == category }, "a lesson for \(category)")
        }
        // The classic traps are asked, with the answer common city rules give.
        let answers = Dictionary(uniqueKeysWithValues: quiz.map { ($0.id, $0.answer) })
        #expect(answers["battery"] == .hazardous)
        #expect(answers["big-bone"] == .other)
        #expect(answers["fish-bone"] == .kitchen)
        #expect(answers["medicine-box"] == .recyclable)
        #expect(answers["paper-cup"] == .other)
    }

    @Test func everyItemHasGuidanceInBothLanguagesFromItsBin() throws {
        let catalogue = try shipped()
        for item in catalogue.items ?? [] {
            for language in Language.allCases {
                let lines = catalogue.guidance(for: item, language: language)
                #expect((2...4).contains(lines.count), "\(item.name.en) \(language): \(lines)")
            }
        }
        let battery = try #require(catalogue.items?.first { $0.name.zh == "废电池" })
        #expect(catalogue.guidance(for: battery, language: .en) == ["Tape over the terminals", "Handle gently, do not break it", "Put it in the red hazardous waste bin"])
    }

    /// Edits the shipped catalogue's text and expects the one-line reason.
    func expectRefused(_ edit: (String) -> String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let edited = edit(try String(contentsOfFile: CatalogueTests.path, encoding: .utf8))
        #expect(edited != (try String(contentsOfFile: CatalogueTests.path, encoding: .utf8)), "the edit changed nothing", sourceLocation: sourceLocation)
        #expect(sourceLocation: sourceLocation) {
            try Catalogue(json: Array(edited.utf8), source: "edited.json")
        } throws: { error in
            "\(error)" == "catalogue edited.json: \(reason)"
        }
    }

    @Test func aBrokenItemQuestionOrLessonIsRefusedWithTheReason() throws {
        try expectRefused({ $0.replacingOccurrences(of: #""pinyin": ["bao zhi", "jiu bao zhi", "za zhi"]"#, with: #""pinyin": ["bao zhi", "jiu bao zhi"]"#) },
                          "item 报纸: pinyin has 2 entries for 3 Chinese names (run scripts/catalogue/pinyin.py)")
        try expectRefused({ $0.replacingOccurrences(of: #""pinyin": ["shu ben", "#, with: #""pinyin": ["shū běn", "#) },
                          "item 书本: pinyin \"shū běn\" is not lowercase letters, digits and spaces")
        try expectRefused({ $0.replacingOccurrences(of: #""name": {"zh": "书本", "en": "Book"}"#, with: #""name": {"zh": "报纸", "en": "Book"}"#) },
                          "item 报纸 is listed twice")
        try expectRefused({ $0.replacingOccurrences(of: #""name": {"zh": "书本", "en": "Book"}"#, with: #""name": {"zh": "书本", "en": " "}"#) },
                          "item 书本: a name is empty")
        try expectRefused({ $0.replacingOccurrences(of: #"{"id": "tea", "#, with: #"{"id": "Tea Leaves", "#) },
                          "quiz question \"Tea Leaves\": the id must be 1-64 lowercase letters, digits and '-'")
        try expectRefused({ $0.replacingOccurrences(of: #"{"id": "tea", "#, with: #"{"id": "eggshell", "#) },
                          "quiz question eggshell is listed twice")
        try expectRefused({ $0.replacingOccurrences(of: #""reason": {"zh": "电池含有重金属"#, with: #""reason": {"zh": "  ", "x": "电池含有重金属"#) },
                          "quiz question battery: the reason is empty in a language")
        try expectRefused({ $0.replacingOccurrences(of: #""text": {"zh": "可回收物：纸、塑料、金属、玻璃、织物。投放前倒空、冲洗、压扁。""#, with: #""text": {"zh": """#) },
                          "a lesson about recyclable is empty in a language")
        // An unknown bin fails decoding, naming the value.
        let edited = try String(contentsOfFile: CatalogueTests.path, encoding: .utf8)
            .replacingOccurrences(of: #"{"id": "tea", "answer": "kitchen""#, with: #"{"id": "tea", "answer": "compost""#)
        #expect { try Catalogue(json: Array(edited.utf8), source: "edited.json") } throws: { "\($0)".contains("compost") }
    }
}

struct ItemSearchTests {
    let search: ItemSearch

    init() throws {
        let catalogue = try Catalogue(json: [UInt8](try Data(contentsOf: URL(fileURLWithPath: CatalogueTests.path))), source: "catalogue.json")
        search = ItemSearch(items: try #require(catalogue.items))
    }

    func top(_ query: String) -> (String, WasteCategory)? {
        search.search(query).first.map { ($0.item.name.zh, $0.item.category) }
    }

    @Test func chineseNamesAndAliasesFindTheirItem() {
        #expect(top("电池")! == ("废电池", .hazardous))
        #expect(top("废电池")! == ("废电池", .hazardous))
        #expect(top("纽扣电池")! == ("废电池", .hazardous))
        #expect(top("香蕉皮")! == ("果皮", .kitchen))
        #expect(top("大骨头")! == ("大骨头", .other))
        #expect(top("骨头")?.0 == "大骨头" || top("骨头")?.0 == "鱼骨", "a part of a name")
        #expect(top("沙发")! == ("沙发", .bulky))
        // Surrounding and inner runs of spaces do not matter.
        #expect(top("  电池 ")! == ("废电池", .hazardous))
    }

    @Test func englishNamesMatchWholeWordStartsAndPlurals() {
        #expect(top("battery")! == ("废电池", .hazardous))
        #expect(top("Batteries")! == ("废电池", .hazardous))
        #expect(top("BOTTLE")?.1 == .recyclable)
        #expect(top("plastic bott")! == ("塑料瓶", .recyclable))
        #expect(top("sofas")! == ("沙发", .bulky))
        #expect(top("ＴＶ")! == ("显示器", .eWaste), "full-width letters fold to ASCII")
        #expect(top("tv")! == ("显示器", .eWaste))
    }

    @Test func pinyinWholeInPartOrAsInitials() {
        #expect(top("dianchi")! == ("废电池", .hazardous))
        #expect(top("dian chi")! == ("废电池", .hazardous))
        #expect(top("fdc")! == ("废电池", .hazardous))
        #expect(top("dc")! == ("废电池", .hazardous))
        #expect(top("shafa")! == ("沙发", .bulky))
        #expect(top("sf")?.0 == "沙发")
        #expect(top("lvguan")! == ("易拉罐", .recyclable), "ü written v: 铝罐")
        #expect(top("kfz")! == ("咖啡渣", .kitchen))
    }

    @Test func nothingMatchesNonsenseAndBlankQueriesAndLimitsHold() {
        #expect(search.search("").isEmpty)
        #expect(search.search("   ").isEmpty)
        #expect(search.search("qqqzzz").isEmpty)
        #expect(search.search("独角兽").isEmpty)
        #expect(search.search("a").isEmpty, "one Latin letter is too little to search on")
        let many = search.search("dian", limit: 3)
        #expect(many.count == 3)
        #expect(search.search("dian").count > 3)
        #expect(search.search("dian", limit: 0).isEmpty)
        // Sorted best first.
        let scores = search.search("dian").map(\.score)
        #expect(scores == scores.sorted(by: >))
        #expect(search.search("电池").first?.matched == "电池", "the alias it matched is named")
    }
}

struct ItemSearchNULTests {
    /// The items fuzz target's finding: Foundation's `contains` crashed on a query of a name followed by NULs.
    @Test func aQueryWithNULsIsSearchedWithoutCrashing() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: CatalogueTests.path).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/crashes/items/nul-after-name.bin")))
        let catalogue = try Catalogue(json: [UInt8](try Data(contentsOf: URL(fileURLWithPath: CatalogueTests.path))), source: "catalogue.json")
        let search = ItemSearch(items: try #require(catalogue.items))
        #expect(search.search(String(decoding: bytes, as: UTF8.self)).isEmpty, "no name holds NULs")
        #expect(search.search("电池\u{0}").isEmpty)
        #expect(!search.search("电池").isEmpty)
    }
}
