import KioskCore

/// What residents get wrong in the quiz: per question and per bin, from the answers held (all time), with the
/// community's mastery level per bin (≥ 80 % mastered, ≥ 60 % proficient, else needs work).
struct QuizReport: Sendable {
    struct Line: Sendable {
        var question: String
        /// The question's text, when the server's catalogue still has it.
        var text: LocalizedText?
        /// The right bin, when known.
        var bin: WasteCategory?
        var answered: Int
        var right: Int
        var share: Double { answered > 0 ? Double(right) / Double(answered) : 0 }
    }

    struct BinLine: Sendable {
        var bin: WasteCategory
        var answered: Int
        var right: Int
        var mastery: Mastery { Mastery(right: right, of: answered) }
    }

    /// Hardest first (lowest share right, then most answered).
    var questions: [Line]
    /// Bins with answers, in the catalogue's order.
    var bins: [BinLine]

    init(totals: [String: (answered: Int, right: Int)], catalogue: [QuizQuestion]) {
        let known = Dictionary(catalogue.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [Line] = []
        for (id, t) in totals {
            lines.append(Line(question: id, text: known[id]?.question, bin: known[id]?.answer, answered: t.answered, right: t.right))
        }
        lines.sort(by: Self.harder)
        questions = lines
        bins = WasteCategory.allCases.compactMap { bin in
            let lines = lines.filter { $0.bin == bin }
            guard !lines.isEmpty else { return nil }
            return BinLine(bin: bin, answered: lines.reduce(0) { $0 + $1.answered }, right: lines.reduce(0) { $0 + $1.right })
        }
    }

    var isEmpty: Bool { questions.isEmpty }

    /// Lower share right first, then more answers, then by id.
    private static func harder(_ a: Line, _ b: Line) -> Bool {
        if a.share != b.share { return a.share < b.share }
        if a.answered != b.answered { return a.answered > b.answered }
        return a.question < b.question
    }
}
