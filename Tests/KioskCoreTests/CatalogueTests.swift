import Foundation
import KioskCore
import Testing

struct CatalogueTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Resources/catalogue.json").path

    func shipped() throws -> Catalogue {
        try Catalogue(json: [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.path))), source: Self.path)
    }

    @Test func theShippedCatalogueHasEveryCategoryWithGBColoursAndIcons() throws {
        let catalogue = try shipped()
        #expect(Set(catalogue.categories.map(\.id)) == Set(WasteCategory.allCases))
        #expect(catalogue.info(for: .recyclable).color == "#005BAC")  // blue
        #expect(catalogue.info(for: .hazardous).color == "#D7000F")  // red
        #expect(catalogue.info(for: .kitchen).color == "#00843D")  // green
        #expect(catalogue.info(for: .other).color == "#6E6E6E")  // grey
        #expect(Set(catalogue.categories.map(\.color)).count == 6, "every bin has its own colour")
        #expect(catalogue.info(for: .kitchen).name.zh == "厨余垃圾")
        #expect(Set(catalogue.categories.map(\.icon)).count == 6)
        let icons = URL(fileURLWithPath: Self.path).deletingLastPathComponent().appendingPathComponent("icons")
        for info in catalogue.categories {
            #expect(FileManager.default.fileExists(atPath: icons.appendingPathComponent(info.icon).path), "icon \(info.icon)")
        }
    }

    @Test func everyTrainingLabelMapsToABinWithTwoToFourLinesOfGuidance() throws {
        let catalogue = try shipped()
        let labels = ["cardboard", "glass", "metal", "paper", "plastic", "trash", "electronics", "food"]
        #expect(catalogue.unmappedLabels(labels).isEmpty)
        #expect(catalogue.category(forLabel: "glass") == .recyclable)
        #expect(catalogue.category(forLabel: "trash") == .other)
        for label in catalogue.labels.keys {
            for language in Language.allCases {
                let guidance = try #require(catalogue.guidance(forLabel: label, language: language))
                #expect((2...4).contains(guidance.lines.count), "\(label) \(language): \(guidance.lines)")
            }
        }
        let glass = try #require(catalogue.guidance(forLabel: "glass", language: .en))
        #expect(glass.lines.first == "Rinse it and remove the cap")
        #expect(catalogue.guidance(forLabel: "unicorn", language: .en) == nil)
    }

    @Test func aBrokenCatalogueIsRefusedWithTheReason() throws {
        #expect(throws: CatalogueError.self) { try Catalogue(json: Array("{".utf8), source: "x.json") }
        var json = try String(contentsOfFile: Self.path, encoding: .utf8)
        json = json.replacingOccurrences(of: "\"#6E6E6E\"", with: "\"grey\"")
        #expect {
            try Catalogue(json: Array(json.utf8), source: "edited.json")
        } throws: { error in
            "\(error)" == "catalogue edited.json: category other: color grey is not #RRGGBB"
        }
    }
}
