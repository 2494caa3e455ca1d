import KioskCore
import Screens
import Testing

/// Ready's lessons and quiz while nobody scans, and the Learn screen: when they start, how they rotate, that an
/// answer is recorded with its verdict, and that scanning always wins.
@Suite struct LearningTests {
    let t0 = ContinuousClock.now

    static let lessons = [Lesson(category: .hazardous, text: .init(zh: "电池属于有害垃圾", en: "Batteries are hazardous")),
                          Lesson(category: .kitchen, text: .init(zh: "果皮属于厨余垃圾", en: "Peel is food waste"))]
    static let questions = [
        QuizQuestion(id: "battery", answer: .hazardous, question: .init(zh: "电池？", en: "A battery?"), reason: .init(zh: "重金属", en: "Heavy metals")),
        QuizQuestion(id: "big-bone", answer: .other, question: .init(zh: "大骨头？", en: "A big bone?"), reason: .init(zh: "难腐烂", en: "Does not rot")),
    ]

    func machine(lessons: [Lesson] = Self.lessons, questions: [QuizQuestion] = Self.questions, learnScreen: Bool = true) -> ScreenMachine {
        ScreenMachine(settings: ScreenSettings(), policy: AnswerPolicy(settings: ScreenSettings(), knownLabels: ["glass"]),
                      language: .en, lessons: lessons, questions: questions, learnScreen: learnScreen)
    }

    @Test func lessonsAndQuestionsTakeTurnsAfterThirtyQuietSeconds() {
        var m = machine()
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(29))
        #expect(m.band == .prompt)
        _ = m.handle(.tick, at: t0 + .seconds(30))
        #expect(m.band == .lesson(0))
        _ = m.handle(.tick, at: t0 + .seconds(41))
        #expect(m.band == .lesson(0), "a lesson stays 12 s")
        _ = m.handle(.tick, at: t0 + .seconds(42))
        #expect(m.band == .question(0))
        _ = m.handle(.tick, at: t0 + .seconds(62))
        #expect(m.band == .lesson(1), "an unanswered question gives way after 20 s")
        _ = m.handle(.tick, at: t0 + .seconds(74))
        #expect(m.band == .question(1))
        _ = m.handle(.tick, at: t0 + .seconds(94))
        #expect(m.band == .lesson(0), "round again")
        #expect(m.screen == .ready)
    }

    @Test func anAnswerIsRecordedWithItsVerdictAndShownForTenSeconds() {
        var m = machine(lessons: [])
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(30))
        #expect(m.band == .question(0))
        let effects = m.handle(.tap(.answerQuiz(.kitchen)), at: t0 + .seconds(31))
        #expect(effects == [.recordQuiz(QuizOutcome(question: "battery", answer: .kitchen, right: false, language: .en))])
        #expect(m.band == .answered(0, .kitchen))
        // A second tap on the answered question records nothing more.
        #expect(m.handle(.tap(.answerQuiz(.hazardous)), at: t0 + .seconds(32)).isEmpty)
        _ = m.handle(.tick, at: t0 + .seconds(40))
        #expect(m.band == .answered(0, .kitchen))
        _ = m.handle(.tick, at: t0 + .seconds(41))
        #expect(m.band == .question(1), "without lessons, questions follow one another")
        let right = m.handle(.tap(.answerQuiz(.other)), at: t0 + .seconds(42))
        #expect(right == [.recordQuiz(QuizOutcome(question: "big-bone", answer: .other, right: true, language: .en))])
    }

    @Test func aBinTapWithoutAQuestionOnScreenDoesNothing() {
        var m = machine()
        #expect(m.handle(.tap(.answerQuiz(.hazardous)), at: t0).isEmpty)
        #expect(m.screen == .ready)
        #expect(m.band == .prompt)
    }

    @Test func scanningAlwaysWins() {
        var m = machine()
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(30))
        _ = m.handle(.tick, at: t0 + .seconds(42))
        #expect(m.band == .question(0))
        // A tap on the scan area during a question scans at once.
        let effects = m.handle(.tap(.scan), at: t0 + .seconds(43))
        guard case .capture(let id) = effects.first else { Issue.record("no capture: \(effects)"); return }
        #expect(m.screen == .scanning(id))
        #expect(m.band == .prompt)
        // Back on Ready the quiet spell starts again from the end of the scan.
        _ = m.handle(.scanFailed(id, reason: "test"), at: t0 + .seconds(44))
        _ = m.handle(.tick, at: t0 + .seconds(73))
        #expect(m.band == .prompt)
        _ = m.handle(.tick, at: t0 + .seconds(74))
        #expect(m.band == .lesson(1), "the rotation carries on where it was")
    }

    @Test func anItemOnTheTrayEndsTheLessonsAndKeepsThemFromStarting() {
        var m = machine()
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(30))
        #expect(m.band == .lesson(0))
        _ = m.handle(.tray(occupied: true), at: t0 + .seconds(31))
        #expect(m.band == .prompt)
        _ = m.handle(.tick, at: t0 + .seconds(120))
        #expect(m.band == .prompt, "not while the item is there")
        _ = m.handle(.tray(occupied: false), at: t0 + .seconds(121))
        _ = m.handle(.tick, at: t0 + .seconds(122))
        #expect(m.band != .prompt, "quiet long enough since the last scan or tap")
    }

    @Test func theLearnScreenOpensClosesAndTimesOut() {
        var m = machine()
        _ = m.handle(.tap(.learn), at: t0)
        #expect(m.screen == .learn)
        _ = m.handle(.tap(.back), at: t0 + .seconds(5))
        #expect(m.screen == .ready)
        _ = m.handle(.tap(.learn), at: t0 + .seconds(6))
        _ = m.handle(.tap(.toggleLanguage), at: t0 + .seconds(40))
        #expect(m.language == .zh)
        _ = m.handle(.tick, at: t0 + .seconds(84))
        #expect(m.screen == .learn, "a tap restarts its 45 s")
        _ = m.handle(.tick, at: t0 + .seconds(85))
        #expect(m.screen == .ready)
        _ = m.handle(.tap(.learn), at: t0 + .seconds(90))
        _ = m.handle(.tray(occupied: true), at: t0 + .seconds(91))
        #expect(m.screen == .ready, "an item on the tray returns to scanning")
    }

    @Test func withoutLessonsQuestionsOrItemsReadyStaysAsItWas() {
        var m = machine(lessons: [], questions: [], learnScreen: false)
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(600))
        #expect(m.band == .prompt)
        _ = m.handle(.tap(.learn), at: t0 + .seconds(601))
        #expect(m.screen == .ready)
        let layout = ScreenLayout(width: 1280, height: 800)
        #expect(!layout.buttons(for: m).contains { $0.1 == .learn })
    }

    @Test func theQuizButtonsAndLearnAreTappableAndDoNotOverlap() {
        var m = machine()
        _ = m.handle(.tick, at: t0)
        _ = m.handle(.tick, at: t0 + .seconds(30))
        _ = m.handle(.tick, at: t0 + .seconds(42))
        #expect(m.band == .question(0))
        for (width, height) in [(1280, 800), (800, 480)] {
            let layout = ScreenLayout(width: width, height: height)
            let buttons = layout.buttons(for: m).filter { $0.1 != .scan }
            #expect(buttons.count == 1 + 1 + 6, "language, learn, six bins")
            for (i, a) in buttons.enumerated() {
                #expect(layout.action(atX: a.0.centerX, y: a.0.centerY, machine: m) == a.1)
                #expect(a.0.height >= 40 && a.0.width >= 40, "large enough to touch: \(a)")
                for b in buttons[(i + 1)...] { #expect(!a.0.intersects(b.0), "\(a.1) overlaps \(b.1)") }
            }
            #expect(layout.quizBand.maxY == height)
            #expect(!layout.learnButton.intersects(layout.quizBand))
        }
    }
}
