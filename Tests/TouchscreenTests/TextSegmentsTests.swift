import Testing
@testable import Touchscreen

/// Where lines may break: after spaces and Chinese characters, never before closing punctuation.
@Suite struct TextSegmentsTests {
    @Test func chineseBreaksAroundCharactersButPunctuationStaysWithWhatPrecedesIt() {
        #expect(TextPainter.segments("报纸、纸箱。") == ["报", "纸、", "纸", "箱。"])
        #expect(TextPainter.segments("果皮（去核）") == ["果", "皮", "（", "去", "核）"])
        #expect(TextPainter.segments("Keep it dry, please") == ["Keep ", "it ", "dry, ", "please"])
        #expect(TextPainter.segments("把握 93%") == ["把", "握", " ", "93%"])
        #expect(TextPainter.segments("、开头") == ["、", "开", "头"])
    }
}
