import KioskCore
import Testing

@Suite struct CorrectionTests {
    @Test func everyBinAndLabelSurvivesTheRecordsFormat() {
        for bin in WasteCategory.allCases {
            #expect(Correction(recordValue: Correction.category(bin).recordValue) == .category(bin))
        }
        #expect(Correction.category(.hazardous).recordValue == "category:hazardous")
        for label in ["glass", "trash", "category", "category:", "category:nonsense", "Category:hazardous", ""] {
            #expect(Correction(recordValue: label) == .label(label), "\(label)")
            #expect(Correction(recordValue: label).recordValue == label)
        }
    }
}
