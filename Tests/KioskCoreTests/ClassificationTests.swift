import KioskCore
import Testing

struct ClassificationTests {
    @Test func softmaxRanksLabelsBestFirst() {
        let result = Classification(logits: [1, 3, 2], labels: ["a", "b", "c"])
        #expect(result.ranked.map(\.label) == ["b", "c", "a"])
        #expect(abs(result.ranked.map(\.probability).reduce(0, +) - 1) < 1e-6)
        #expect(abs(result.top.probability - 0.66524) < 1e-4)
        #expect(abs(result.margin - (0.66524 - 0.24473)) < 1e-4)
        #expect(result.top(2).map(\.label) == ["b", "c"])
    }

    @Test func hugeLogitsDoNotOverflow() {
        let result = Classification(logits: [1000, 999], labels: ["x", "y"])
        #expect(result.top.label == "x")
        #expect(result.top.probability.isFinite)
    }
}
