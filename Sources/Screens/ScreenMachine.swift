import KioskCore

/// The kiosk's screen logic, free of SDL, threads and clocks: events in (taps, answers from the engine, health
/// changes, the time), the new screen and effects out. The caller passes the time with every event, so tests drive
/// the timeouts with made-up instants.
public struct ScreenMachine: Sendable {
    /// What the caller must do after an event.
    public enum Effect: Equatable, Sendable {
        /// Freeze the newest frame and classify it (or report it empty) as this scan.
        case capture(ScanID)
        /// Store the finished scan as a record.
        case record(ScanOutcome)
        /// Store a quiz answer as a record.
        case recordQuiz(QuizOutcome)
    }

    /// What happened.
    public enum Event: Sendable {
        case tap(ScreenAction)
        /// The engine's answer for a scan.
        case classified(ScanID, Classification)
        /// The captured frame showed only the empty tray.
        case trayEmpty(ScanID)
        /// No frame, or the engine failed: the scan is dropped.
        case scanFailed(ScanID, reason: String)
        case problem(Problem, detail: String)
        case recovered(Problem)
        /// The tray check on the live picture: whether something is on the tray now. An item appearing ends the
        /// lessons and the Learn screen, and keeps them from starting.
        case tray(occupied: Bool)
        /// Time passed (sent every frame).
        case tick
    }

    public let settings: ScreenSettings
    /// When the model's answer is shown by itself, and the look-alikes it is shown with.
    public let policy: AnswerPolicy
    /// Labels the catalogue can map to a bin; other labels are never offered as an answer.
    public var knownLabels: Set<String> { policy.knownLabels }

    public private(set) var language: Language
    /// Problems now present, with a detail line for the technician.
    public private(set) var problems: [Problem: String] = [:]
    /// The scan on screen (scanning, result, not sure, browse) and its classification once known.
    public private(set) var classification: Classification?
    /// Why the last scan failed, for the log and the technician hint.
    public private(set) var lastFailure: String?
    /// The catalogue's lessons and quiz questions, shown in turn on Ready while nobody scans.
    public let lessons: [Lesson]
    public let questions: [QuizQuestion]
    /// Ready's lower band.
    public private(set) var band: ReadyBand = .prompt
    private var bandDeadline: ContinuousClock.Instant?
    /// Since when nobody has scanned or tapped (set by the first event after start).
    private var idleSince: ContinuousClock.Instant?
    private var trayOccupied = false
    private var lessonNext = true
    private var nextLesson = 0
    private var nextQuestion = 0
    /// Whether the scan on screen came up "not sure" by itself.
    private var asked = false
    private var base: Screen = .ready
    private var deadline: ContinuousClock.Instant?
    private var nextScan: UInt64 = 1

    public init(settings: ScreenSettings, policy: AnswerPolicy, language: Language, lessons: [Lesson] = [],
                questions: [QuizQuestion] = [], learnScreen: Bool = false) {
        self.settings = settings
        self.policy = policy
        self.language = language
        self.lessons = lessons
        self.questions = questions
        offersLearnScreen = learnScreen
    }

    /// A machine with the catalogue's labels, safety rules, lessons and quiz.
    public init(settings: ScreenSettings, catalogue: Catalogue, language: Language) {
        self.init(settings: settings, policy: AnswerPolicy(settings: settings, catalogue: catalogue), language: language,
                  lessons: catalogue.lessons ?? [], questions: catalogue.quiz ?? [], learnScreen: !(catalogue.items ?? []).isEmpty)
    }

    /// Whether Ready offers the Learn screen (the catalogue lists items).
    public let offersLearnScreen: Bool

    /// A machine with thresholds alone (no safety rules).
    public init(settings: ScreenSettings, knownLabels: Set<String>, language: Language) {
        self.init(settings: settings, policy: AnswerPolicy(settings: settings, knownLabels: knownLabels), language: language)
    }

    /// The screen to draw: Ready gives way to the most serious problem.
    public var screen: Screen {
        if base == .ready, let problem = problems.keys.min() { return .problem(problem) }
        return base
    }

    /// The answers offered on the not-sure screen: up to three known labels, best first.
    public var guesses: [LabelScore] {
        guard let classification else { return [] }
        return Array(classification.ranked.filter { knownLabels.contains($0.label) }.prefix(3))
    }

    /// Whether the model's answer is clear and safe enough to show without asking.
    public func isConfident(_ c: Classification) -> Bool { policy.answersByItself(c) }

    /// The look-alike warning on the result screen: its item may be mistaken for one of another bin.
    public var lookAlike: SafetyRules.LookAlike? {
        guard case .result(_, .label(let label), _) = base else { return nil }
        return policy.lookAlike(forLabel: label)
    }

    /// Applies one event at time `now`; returns what the caller must do.
    public mutating func handle(_ event: Event, at now: ContinuousClock.Instant) -> [Effect] {
        if idleSince == nil { idleSince = now }
        switch event {
        case .tap(let action): return tap(action, at: now)
        case .classified(let id, let c):
            guard case .scanning(id) = base else { return [] }
            classification = c
            asked = !isConfident(c)
            base = asked ? .notSure(id) : .result(id, shown: .label(c.top.label), corrected: false)
            deadline = now + settings.idleTimeout
        case .trayEmpty(let id):
            guard case .scanning(id) = base else { return [] }
            base = .emptyTray
            deadline = now + settings.emptyTrayTimeout
        case .scanFailed(let id, let reason):
            guard case .scanning(id) = base else { return [] }
            lastFailure = reason
            returnToReady(at: now)
        case .problem(let problem, let detail):
            problems[problem] = detail
        case .recovered(let problem):
            problems[problem] = nil
        case .tray(let occupied):
            trayOccupied = occupied
            if occupied && (base == .learn || (base == .ready && band != .prompt)) { returnToReady(at: now) }
        case .tick:
            if base == .ready { advanceBand(at: now) }
            guard let deadline, now >= deadline else { return [] }
            switch base {
            case .scanning(let id):
                lastFailure = "\(id) had no answer after \(settings.scanTimeout)"
                returnToReady(at: now)
            case .result, .notSure, .browse:
                return finish(at: now)
            default:
                returnToReady(at: now)
            }
        }
        return []
    }

    /// Ready's band: after a quiet spell, lessons and questions in turn, each for its time; an answer for its own.
    private mutating func advanceBand(at now: ContinuousClock.Instant) {
        if band == .prompt {
            guard !lessons.isEmpty || !questions.isEmpty, !trayOccupied, problems.isEmpty, let idleSince, now - idleSince >= settings.learningAfter else { return }
        } else {
            guard let bandDeadline, now >= bandDeadline else { return }
        }
        if (lessonNext && !lessons.isEmpty) || questions.isEmpty {
            band = .lesson(nextLesson % lessons.count)
            nextLesson += 1
            bandDeadline = now + settings.lessonTime
        } else {
            band = .question(nextQuestion % questions.count)
            nextQuestion += 1
            bandDeadline = now + settings.questionTime
        }
        lessonNext.toggle()
    }

    private mutating func tap(_ action: ScreenAction, at now: ContinuousClock.Instant) -> [Effect] {
        idleSince = now
        if action == .toggleLanguage {
            language = language == .zh ? .en : .zh
            if base == .learn {
                deadline = now + settings.learnTimeout
            } else if deadline != nil, base != .emptyTray, !isScanning {
                deadline = now + settings.idleTimeout
            }
            return []
        }
        switch (screen, action) {
        case (.ready, .scan), (.emptyTray, .scan):
            let id = ScanID(nextScan)
            nextScan += 1
            base = .scanning(id)
            band = .prompt
            bandDeadline = nil
            classification = nil
            deadline = now + settings.scanTimeout
            return [.capture(id)]
        case (.ready, .answerQuiz(let category)):
            guard case .question(let index) = band else { return [] }
            let question = questions[index]
            band = .answered(index, category)
            bandDeadline = now + settings.answerTime
            return [.recordQuiz(QuizOutcome(question: question.id, answer: category, right: category == question.answer,
                                            language: language))]
        case (.ready, .learn) where offersLearnScreen:
            base = .learn
            band = .prompt
            bandDeadline = nil
            deadline = now + settings.learnTimeout
            return []
        case (.learn, .back):
            returnToReady(at: now)
            return []
        case (.result, .done):
            return finish(at: now)
        case (.result(let id, _, _), .notRight):
            base = .notSure(id)
        case (.result(let id, _, _), .chooseLookAlike):
            guard let lookAlike else { return [] }
            base = .result(id, shown: .category(lookAlike.category), corrected: true)
        case (.notSure(let id), .choose(let label)) where guesses.contains(where: { $0.label == label }):
            base = .result(id, shown: .label(label), corrected: label != classification?.top.label)
        case (.notSure(let id), .browse):
            base = .browse(id)
        case (.browse(let id), .chooseCategory(let category)):
            base = .result(id, shown: .category(category), corrected: true)
        case (.browse(let id), .back):
            base = .notSure(id)
        default:
            return []
        }
        deadline = now + settings.idleTimeout
        return []
    }

    private var isScanning: Bool {
        if case .scanning = base { return true }
        return false
    }

    /// Ends the scan on screen: back to Ready and a record of what the resident saw or chose.
    private mutating func finish(at now: ContinuousClock.Instant) -> [Effect] {
        let id: ScanID
        var correction: Choice?
        var settled: Choice?
        switch base {
        case .result(let scan, let shown, let corrected): id = scan; correction = corrected ? shown : nil; settled = shown
        case .notSure(let scan), .browse(let scan): id = scan
        default: returnToReady(at: now); return []
        }
        guard let classification else { returnToReady(at: now); return [] }
        let outcome = ScanOutcome(scan: id, classification: classification, language: language, correction: correction,
                                  asked: asked, settled: settled)
        returnToReady(at: now)
        return [.record(outcome)]
    }

    private mutating func returnToReady(at now: ContinuousClock.Instant) {
        base = .ready
        deadline = nil
        classification = nil
        asked = false
        band = .prompt
        bandDeadline = nil
        idleSince = now
    }
}
