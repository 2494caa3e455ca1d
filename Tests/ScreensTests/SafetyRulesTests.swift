import Foundation
import KioskCore
import Screens
import Testing

/// The catalogue's safety rules in the screen logic: bin guards send risky recyclable answers to "not sure", and
/// look-alikes offer a one-tap switch to the hazardous bin that is recorded as the resident's correction.
@Suite struct SafetyRulesTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Resources/catalogue.json").path
    let t0 = ContinuousClock.now

    static func catalogue(editing edit: (String) -> String = { $0 }) throws -> Catalogue {
        let json = edit(try String(contentsOfFile: path, encoding: .utf8))
        return try Catalogue(json: Array(json.utf8), source: "catalogue.json")
    }

    static func guardLimit() throws -> Float {
        try #require(try catalogue().safetyRules.binGuards.first { $0.category == .recyclable }).maxOtherBins
    }

    func classification(_ pairs: [(String, Float)]) -> Classification {
        Classification(ranked: pairs.map { LabelScore(label: $0.0, probability: $0.1) })
    }

    func scanned(_ c: Classification, catalogue: Catalogue) -> (ScreenMachine, ScanID) {
        var m = ScreenMachine(settings: ScreenSettings(), catalogue: catalogue, language: .en)
        guard case .capture(let id) = m.handle(.tap(.scan), at: t0).first else { fatalError("no capture") }
        _ = m.handle(.classified(id, c), at: t0)
        return (m, id)
    }

    @Test func theShippedCatalogueGuardsRecyclingAndWarnsOfHazardousLookAlikes() throws {
        let rules = try Self.catalogue().safetyRules
        let limit = try Self.guardLimit()
        #expect(limit > 0 && limit < 0.5)
        for label in ["metal", "plastic", "glass"] {
            let lookAlike = try #require(rules.lookAlike(forLabel: label), "\(label)")
            #expect(lookAlike.category == .hazardous)
            #expect(!lookAlike.text.zh.isEmpty && !lookAlike.text.en.isEmpty)
        }
        #expect(rules.lookAlike(forLabel: "food") == nil)
    }

    @Test func aConfidentRecyclableAnswerWithTooMuchOnTrashAsks() throws {
        let catalogue = try Self.catalogue()
        let limit = try Self.guardLimit()
        // Confident by the thresholds alone (0.7 ≥ 0.55, margin 0.7 - trash ≥ 0.15) ...
        let risky = classification([("plastic", 0.70), ("trash", limit + 0.01), ("glass", 0.29 - limit)])
        #expect(AnswerPolicy(settings: ScreenSettings(), knownLabels: Set(catalogue.labels.keys)).answersByItself(risky))
        #expect(abs(catalogue.probabilityOutsideTopBin(risky) - (limit + 0.01)) < 1e-5)
        // ... but the guard asks, and the record says the kiosk asked.
        var (m, id) = scanned(risky, catalogue: catalogue)
        #expect(m.screen == .notSure(id))
        _ = m.handle(.tap(.choose("trash")), at: t0)
        guard case .record(let outcome) = m.handle(.tap(.done), at: t0).first else {
            Issue.record("no record")
            return
        }
        #expect(outcome.asked && outcome.correction == .label("trash"))
    }

    @Test func probabilityInTheSameBinDoesNotTripTheGuard() throws {
        let catalogue = try Self.catalogue()
        // 0.3 on glass is still recyclable: nothing outside the bin.
        let safe = classification([("plastic", 0.66), ("glass", 0.30), ("trash", 0.04)])
        #expect(catalogue.probabilityOutsideTopBin(safe) < 0.05)
        let (m, id) = scanned(safe, catalogue: catalogue)
        #expect(m.screen == .result(id, shown: .label("plastic"), corrected: false))
        // The guard watches only the recyclable bin: an e-waste answer is not held back by it.
        let device = classification([("electronics", 0.70), ("trash", 0.30)])
        #expect(!catalogue.guardStops(device))
    }

    @Test func theLookAlikeSwitchesToHazardousAsTheResidentsCorrection() throws {
        let catalogue = try Self.catalogue()
        var (m, id) = scanned(classification([("metal", 0.95), ("glass", 0.04), ("trash", 0.01)]), catalogue: catalogue)
        #expect(m.screen == .result(id, shown: .label("metal"), corrected: false))
        #expect(m.lookAlike?.category == .hazardous)
        _ = m.handle(.tap(.chooseLookAlike), at: t0)
        #expect(m.screen == .result(id, shown: .category(.hazardous), corrected: true))
        #expect(m.lookAlike == nil, "the hazardous result has no look-alike line")
        guard case .record(let outcome) = m.handle(.tap(.done), at: t0).first else {
            Issue.record("no record")
            return
        }
        #expect(outcome.correction?.recordValue == "category:hazardous")
        #expect(!outcome.asked)
    }

    @Test func anAnswerWithoutALookAlikeIgnoresTheSwitch() throws {
        var (m, id) = scanned(classification([("food", 0.95), ("trash", 0.05)]), catalogue: try Self.catalogue())
        #expect(m.lookAlike == nil)
        _ = m.handle(.tap(.chooseLookAlike), at: t0)
        #expect(m.screen == .result(id, shown: .label("food"), corrected: false))
    }

    @Test(arguments: [
        ("\"max_other_bins\": 0.", "\"max_other_bins\": 1.5, \"x\": 0.", "bin guard for recyclable: max_other_bins 1.5 is not in (0, 1]"),
        ("{\"labels\": [\"metal\"]", "{\"labels\": [\"metl\"]", "look-alike for metl: no such label"),
        ("{\"labels\": [\"metal\"], \"category\": \"hazardous\"", "{\"labels\": [\"metal\"], \"category\": \"recyclable\"",
         "look-alike for metal: it is in recyclable already"),
    ])
    func aBadSafetyRuleIsRefusedWithTheReason(find: String, replace: String, reason: String) throws {
        #expect {
            try Self.catalogue { $0.replacingOccurrences(of: find, with: replace) }
        } throws: { error in
            "\(error)" == "catalogue catalogue.json: safety: \(reason)"
        }
    }
}
