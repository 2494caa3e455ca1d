import Foundation
import KioskCore
import Screens
import Testing

@Suite struct UITextTests {
    static let catalogueFile = "/" + String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/") + "/Resources/catalogue.json"

    func shipped() throws -> Catalogue {
        let bytes = try #require(FileManager.default.contents(atPath: Self.catalogueFile))
        return try Catalogue(json: Array(bytes), source: "catalogue.json")
    }

    @Test func theShippedCatalogueHasEveryMessageInBothLanguages() throws {
        let table = try UIText.Table(catalogue: try shipped(), source: "catalogue.json")
        #expect(table[.tapToScan, .zh] == "点击识别")
        #expect(table[.tapToScan, .en] == "Tap to scan")
        for key in UIText.allCases {
            #expect(table[key, .zh] != table[key, .en] || key == .technician, "\(key) is not translated")
        }
    }

    @Test func aMissingOrEmptyMessageIsNamed() throws {
        var catalogue = try shipped()
        catalogue.messages?["done"] = nil
        #expect(throws: CatalogueError.self) { try UIText.Table(catalogue: catalogue, source: "c.json") }
        do {
            _ = try UIText.Table(catalogue: catalogue, source: "c.json")
        } catch {
            #expect(error.description == "catalogue c.json: messages.done is missing")
        }
        catalogue.messages?["done"] = LocalizedText(zh: "完成", en: "")
        do {
            _ = try UIText.Table(catalogue: catalogue, source: "c.json")
            Issue.record("an empty message was accepted")
        } catch {
            #expect(error.description == "catalogue c.json: messages.done.en is empty")
        }
    }

    @Test func bannerTextIsReadableOnEveryBinColour() throws {
        for info in try shipped().categories {
            let colour = try #require(Colour(hex: info.color))
            // WCAG AA for large text is 3:1; aim for 4.5:1 (normal text) since residents may read from a metre.
            #expect(colour.contrast(with: colour.textColour) >= 4.5, "\(info.id) \(info.color)")
        }
        #expect(Colour(hex: "#00843D") == Colour(red: 0, green: 0x84, blue: 0x3D))
        #expect(Colour(hex: "00843") == nil)
        #expect(abs(Colour.white.contrast(with: .black) - 21) < 0.01)
    }
}
