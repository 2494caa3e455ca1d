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
    /// Whether the scan on screen came up "not sure" by itself.
    private var asked = false
    private var base: Screen = .ready
    private var deadline: ContinuousClock.Instant?
    private var nextScan: UInt64 = 1

    public init(settings: ScreenSettings, policy: AnswerPolicy, language: Language) {
        self.settings = settings
        self.policy = policy
        self.language = language
    }

    /// A machine with the catalogue's labels and safety rules.
    public init(settings: ScreenSettings, catalogue: Catalogue, language: Language) {
        self.init(settings: settings, policy: AnswerPolicy(settings: settings, catalogue: catalogue), language: language)
    }

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
            returnToReady()
        case .problem(let problem, let detail):
            problems[problem] = detail
        case .recovered(let problem):
            problems[problem] = nil
        case .tick:
            guard let deadline, now >= deadline else { return [] }
            switch base {
            case .scanning(let id):
                lastFailure = "\(id) had no answer after \(settings.scanTimeout)"
                returnToReady()
            case .result, .notSure, .browse:
                return finish()
            default:
                returnToReady()
            }
        }
        return []
    }

    private mutating func tap(_ action: ScreenAction, at now: ContinuousClock.Instant) -> [Effect] {
        if action == .toggleLanguage {
            language = language == .zh ? .en : .zh
            if deadline != nil, base != .emptyTray, !isScanning { deadline = now + settings.idleTimeout }
            return []
        }
        switch (screen, action) {
        case (.ready, .scan), (.emptyTray, .scan):
            let id = ScanID(nextScan)
            nextScan += 1
            base = .scanning(id)
            classification = nil
            deadline = now + settings.scanTimeout
            return [.capture(id)]
        case (.result, .done):
            return finish()
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
    private mutating func finish() -> [Effect] {
        let id: ScanID
        var correction: Choice?
        switch base {
        case .result(let scan, let shown, let corrected): id = scan; correction = corrected ? shown : nil
        case .notSure(let scan), .browse(let scan): id = scan
        default: returnToReady(); return []
        }
        guard let classification else { returnToReady(); return [] }
        let outcome = ScanOutcome(scan: id, classification: classification, language: language, correction: correction,
                                  asked: asked)
        returnToReady()
        return [.record(outcome)]
    }

    private mutating func returnToReady() {
        base = .ready
        deadline = nil
        classification = nil
        asked = false
    }
}
