internal import CSDL2
import Foundation
import Imaging
import KioskCore
import Logging
import Screens

/// The kiosk's main loop, on the main thread: SDL events become taps, the camera's newest frame becomes the
/// picture, the engine's and the store's results come back as values, and the screen is drawn about 60 times a
/// second. It never waits on capture, inference or SQLite: those run on their own threads.
public final class KioskLoop {
    public struct Configuration {
        public var settings = ScreenSettings()
        public var language: Language = .zh
        public var windowed = false
        public var windowSize: (width: Int, height: Int)?
        public var font: FontFile
        public var catalogue: Catalogue
        public var texts: UIText.Table
        public var iconDirectory: String?
        /// The kiosk name written into records.
        public var kiosk: String
        /// Keep a 96 px JPEG of the scanned frame in each record (off: residents' hands and faces are private).
        public var thumbnails = false
        /// Keep the model's crop of scans residents corrected or the kiosk was unsure about (`FieldPhoto`).
        public var fieldPhotos = false
        /// Frames per second the loop aims for.
        public var framesPerSecond = 60
        /// A camera or model problem is shown only after it lasted this long (start-up, a quick reconnect).
        public var problemGrace: Duration = .seconds(3)
        /// The link of a signed points code for a record id shown at a time (seconds since 1970); nil: no codes
        /// (a kiosk that is not enrolled).
        public var claimLink: (@Sendable (UUID, Int64) -> String)?

        public init(font: FontFile, catalogue: Catalogue, texts: UIText.Table, kiosk: String) {
            self.font = font
            self.catalogue = catalogue
            self.texts = texts
            self.kiosk = kiosk
        }
    }

    public private(set) var machine: ScreenMachine
    public private(set) var statistics = LoopStatistics()
    public let display: Display
    private let renderer: ScreenRenderer
    private let configuration: Configuration
    private let camera: any FrameSource
    private let engine: InferenceWorker
    private let records: RecordWriter
    private let heartbeat: () -> Void
    private let logger: Logger

    private var tray = TrayBackground()
    private var counts: [WasteCategory: Int] = [:]
    /// Picture textures used in turn: updating one that a frame still in flight draws from would make the GPU
    /// driver wait for that frame to finish.
    private var pictures: [Texture?] = [nil, nil]
    private var pictureIndex = 0
    /// The camera frame on screen; a scan freezes and classifies exactly this frame.
    private var shownFrame: Frame?
    private var lastObserved: ContinuousClock.Instant?
    private var scanStarted: ContinuousClock.Instant?
    private var tapAt: ContinuousClock.Instant?
    private var pendingInference: Duration?
    private var troubleSince: [Problem: ContinuousClock.Instant] = [:]
    /// The points code of the scan on screen: its record gets this id, so the code names the record.
    private var claim: (scan: ScanID, record: UUID, shown: ScreenRenderer.Claim?)?
    private var running = true
    private let startedAt = ContinuousClock.now

    public init(configuration: Configuration, camera: any FrameSource, engine: InferenceWorker, records: RecordWriter,
                logger: Logger = Logger(label: "kiosk.screen"), heartbeat: @escaping () -> Void = {}) throws(TouchscreenError) {
        self.configuration = configuration
        self.camera = camera
        self.engine = engine
        self.records = records
        self.heartbeat = heartbeat
        self.logger = logger
        machine = ScreenMachine(settings: configuration.settings, catalogue: configuration.catalogue,
                                language: configuration.language)
        display = try Display(title: "Waste sorting kiosk", windowed: configuration.windowed, size: configuration.windowSize)
        renderer = try ScreenRenderer(display: display, font: configuration.font, catalogue: configuration.catalogue,
                                      texts: configuration.texts, iconDirectory: configuration.iconDirectory)
        // An answer wakes the loop from its wait for the next frame, so it is shown without delay.
        engine.onAnswer {
            var event = SDL_Event()
            event.type = SDL_USEREVENT.rawValue
            SDL_PushEvent(&event)
        }
        logger.info("screen \(display.width)x\(display.height), renderer \(display.rendererName), font \(configuration.font.path), \(renderer.loadedIcons) icons")
        for problem in renderer.iconProblems { logger.warning("\(problem); drawn as a plain swatch") }
    }

    /// Texts that did not fit their boxes (should stay empty).
    public var textOverflows: [String] { renderer.text.overflows }

    /// Runs until SDL asks to quit (window closed, SIGINT or SIGTERM) or `stop()` is called.
    public func run() {
        while running {
            let start = ContinuousClock.now
            step()
            waitForNextFrame(startedAt: start)
        }
    }

    /// Waits out the rest of the frame that began at `start`, waking early for input or an engine answer.
    public func waitForNextFrame(startedAt start: ContinuousClock.Instant) {
        let frame = Duration.seconds(1) / configuration.framesPerSecond
        let spent = ContinuousClock.now - start
        if spent < frame {
            _ = SDL_WaitEventTimeout(nil, Int32((frame - spent) / .milliseconds(1)))
        }
    }

    public func stop() { running = false }

    /// Starts the measurements afresh (after a benchmark's warm-up).
    public func resetStatistics() { statistics.reset() }

    /// One frame: input, results, health, time, drawing.
    public func step() {
        let start = ContinuousClock.now
        let before = machine.screen
        pollEvents(at: start)
        collectAnswers(at: start)
        updateHealth(at: start)
        apply(machine.handle(.tick, at: start))
        updateClaim()
        updatePicture(at: start)
        renderer.render(content(at: start))
        display.present()
        let end = ContinuousClock.now
        let after = machine.screen
        if before != after { logger.debug("screen \(before) → \(after)") }
        if let tap = tapAt, isAnswer(after) {
            statistics.answer(after: end - tap, inference: pendingInference ?? .zero)
            tapAt = nil
            pendingInference = nil
        }
        statistics.frame(end - start, scanning: isScanning(after), swapping: engine.isSwapping)
        heartbeat()
    }

    /// Sends a tap through SDL's event queue, as the touchscreen would (tests and benchmarks).
    public func injectTap(x: Int, y: Int) {
        for type in [SDL_MOUSEBUTTONDOWN, SDL_MOUSEBUTTONUP] {
            var event = SDL_Event()
            event.type = type.rawValue
            event.button.button = UInt8(SDL_BUTTON_LEFT)
            event.button.state = UInt8(type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED)
            event.button.x = Int32(x)
            event.button.y = Int32(y)
            event.button.windowID = SDL_GetWindowID(display.window)
            SDL_PushEvent(&event)
        }
    }

    /// The centre of the button that does `action` on the current screen, if there is one.
    public func point(for action: ScreenAction) -> (x: Int, y: Int)? {
        let layout = ScreenLayout(width: display.width, height: display.height)
        guard let rect = layout.buttons(for: machine).first(where: { $0.1 == action })?.0
        else { return nil }
        return (rect.centerX, rect.centerY)
    }

    /// Draws the current screen again and returns its pixels (screenshots, rendering tests).
    public func capture() throws(TouchscreenError) -> RGBImage {
        renderer.render(content(at: .now))
        return try display.readPixels()
    }

    /// Writes the current screen as a PNG file.
    public func saveScreenshot(to path: String) throws(TouchscreenError) {
        let image = try capture()
        do {
            let bytes = try PNGCodec.encode(image, destination: path)
            try AtomicFile.write(bytes, to: path)
        } catch {
            throw .screenshot(path: path, reason: "\(error)")
        }
    }

    // MARK: Steps

    private func pollEvents(at now: ContinuousClock.Instant) {
        var event = SDL_Event()
        while SDL_PollEvent(&event) != 0 {
            switch event.type {
            case SDL_QUIT.rawValue:
                running = false
            case SDL_MOUSEBUTTONUP.rawValue where event.button.button == UInt8(SDL_BUTTON_LEFT):
                tap(x: Int(event.button.x), y: Int(event.button.y), at: now)
            case SDL_KEYUP.rawValue where configuration.windowed && event.key.keysym.sym == SDLK_ESCAPE.rawValue:
                running = false
            case SDL_WINDOWEVENT.rawValue where event.window.event == UInt8(SDL_WINDOWEVENT_SIZE_CHANGED.rawValue):
                display.refreshSize()
            default:
                break
            }
        }
    }

    private func tap(x: Int, y: Int, at now: ContinuousClock.Instant) {
        let layout = ScreenLayout(width: display.width, height: display.height)
        guard let action = layout.action(atX: x, y: y, machine: machine) else { return }
        if action == .scan { tapAt = now }
        apply(machine.handle(.tap(action), at: now))
    }

    private func collectAnswers(at now: ContinuousClock.Instant) {
        for answer in engine.takeAnswers() {
            switch answer.result {
            case .success(let classification):
                pendingInference = answer.inference
                apply(machine.handle(.classified(answer.scan, classification), at: now))
            case .failure(let failure):
                logger.error("\(answer.scan) failed: \(failure)")
                tapAt = nil
                apply(machine.handle(.scanFailed(answer.scan, reason: failure.description), at: now))
            }
        }
    }

    private func updateHealth(at now: ContinuousClock.Instant) {
        let status = camera.status
        report(.camera, trouble: status.isStreaming ? nil : status.description, at: now, grace: configuration.problemGrace)
        switch engine.status {
        case .ready: report(.model, trouble: nil, at: now, grace: .zero)
        case .loading: report(.model, trouble: "loading the model", at: now, grace: configuration.problemGrace)
        case .unavailable(let reason): report(.model, trouble: reason, at: now, grace: .zero)
        }
        let snapshot = records.snapshot
        counts = snapshot.todayCounts
        if case .failing(let reason) = snapshot.health {
            report(.storage, trouble: "\(reason) (\(snapshot.waiting) scans waiting in memory)", at: now, grace: .zero)
        } else {
            report(.storage, trouble: nil, at: now, grace: .zero)
        }
    }

    private func report(_ problem: Problem, trouble: String?, at now: ContinuousClock.Instant, grace: Duration) {
        guard let trouble else {
            troubleSince[problem] = nil
            if machine.problems[problem] != nil {
                logger.info("recovered: \(problem)")
                apply(machine.handle(.recovered(problem), at: now))
            }
            return
        }
        let since = troubleSince[problem] ?? now
        troubleSince[problem] = since
        if now - since >= grace && machine.problems[problem] != trouble {
            logger.warning("\(problem): \(trouble)")
            apply(machine.handle(.problem(problem, detail: trouble), at: now))
        }
    }

    private func apply(_ effects: [ScreenMachine.Effect]) {
        for effect in effects {
            switch effect {
            case .capture(let scan): capture(scan)
            case .record(let outcome): record(outcome)
            case .recordQuiz(let outcome): recordQuiz(outcome)
            }
        }
    }

    /// Freezes the newest frame and hands it to the engine, unless it shows only the empty tray.
    private func capture(_ scan: ScanID) {
        let now = ContinuousClock.now
        scanStarted = now
        guard let frame = shownFrame ?? camera.latestFrame() else {
            apply(machine.handle(.scanFailed(scan, reason: "no camera frame yet"), at: now))
            tapAt = nil
            return
        }
        if shownFrame == nil { show(frame) }
        if tray.isEmpty(frame.image) {
            pendingInference = .zero
            apply(machine.handle(.trayEmpty(scan), at: now))
        } else {
            engine.submit(scan, frame.image)
        }
    }

    private func record(_ outcome: ScanOutcome) {
        let c = outcome.classification
        let version: String
        if case .ready(let v) = engine.status { version = v } else { version = "unknown" }
        let category: WasteCategory
        if let known = configuration.catalogue.category(forLabel: c.top.label) {
            category = known
        } else {
            // Only the not-sure screen can end such a scan; the record keeps the label, under "other".
            category = .other
            statistics.unmappedAnswers += 1
            logger.warning("\(outcome.scan): the model's answer \(c.top.label) has no bin in the catalogue; recorded under other")
        }
        // The record the points code (if one was shown) names.
        let id = claim.flatMap { $0.scan == outcome.scan ? $0.record : nil } ?? UUID()
        claim = nil
        let record = ScanRecord(
            id: id, kiosk: configuration.kiosk, capturedAtMilliseconds: WallClock.nowMilliseconds, label: c.top.label,
            category: category, confidence: Double(c.top.probability),
            top: c.top(3).map { .init(label: $0.label, p: Double($0.probability)) }, modelVersion: version,
            language: outcome.language, correction: outcome.correction?.recordValue, asked: outcome.asked)
        records.submit(record, thumbnailFrom: configuration.thumbnails ? shownFrame?.image : nil)
        if configuration.fieldPhotos, let frame = shownFrame,
            let kept = FieldPhoto.label(for: record, settled: outcome.settled?.recordValue) {
            statistics.fieldPhotos += 1
            records.submit(FieldPhoto(kiosk: configuration.kiosk, takenAtMilliseconds: record.capturedAtMilliseconds,
                                      label: kept.label, source: kept.source, record: record.id, modelLabel: record.label,
                                      modelVersion: version, jpeg: Data()),
                           from: frame.image)
        }
    }

    private func recordQuiz(_ outcome: QuizOutcome) {
        statistics.quizAnswers += 1
        records.submit(QuizAnswer(kiosk: configuration.kiosk, answeredAtMilliseconds: WallClock.nowMilliseconds,
                                  question: outcome.question, answer: outcome.answer, right: outcome.right, language: outcome.language))
    }

    /// Makes the points code when an uncorrected answer in a bin with points comes up (once per scan).
    private func updateClaim() {
        guard let link = configuration.claimLink, case .result(let scan, .label(let label), corrected: false) = machine.screen,
            claim?.scan != scan
        else { return }
        let record = UUID()
        var shown: ScreenRenderer.Claim?
        if let category = configuration.catalogue.category(forLabel: label), let points = configuration.catalogue.points[category] {
            do {
                let code = try QRCode(encoding: link(record, WallClock.nowMilliseconds / 1000))
                // Drawn at its final size (whole pixels a module), so it is never scaled blurry.
                let side = ScreenLayout(width: display.width, height: display.height).resultPicture.width
                let image = code.image(scale: max(1, side / code.sideWithQuietZone))
                if let texture = display.texture(image) { shown = .init(texture: texture, points: points) }
            } catch {
                logger.error("\(scan): no points code: \(error)")
            }
        }
        claim = (scan, record, shown)
    }

    /// On Ready, shows each new camera frame and now and then teaches the tray background.
    private func updatePicture(at now: ContinuousClock.Instant) {
        let screen = machine.screen
        guard screen == .ready || screen == .learn || isProblem(screen), let frame = camera.latestFrame(),
            frame.sequence != shownFrame?.sequence
        else { return }
        show(frame)
        if lastObserved.map({ now - $0 >= .milliseconds(250) }) ?? true {
            tray.observe(frame.image, at: now)
            lastObserved = now
            // Something put on the tray ends the lessons and the Learn screen at once.
            if tray.background != nil { apply(machine.handle(.tray(occupied: !tray.isEmpty(frame.image)), at: now)) }
        }
    }

    private func show(_ frame: Frame) {
        pictureIndex = (pictureIndex + 1) % pictures.count
        pictures[pictureIndex] = display.upload(frame.image, reusing: pictures[pictureIndex])
        shownFrame = frame
    }

    private func content(at now: ContinuousClock.Instant) -> ScreenRenderer.Content {
        let elapsed = scanStarted.map { (now - $0) / .milliseconds(1) / 1000 } ?? 0
        var shownClaim: ScreenRenderer.Claim?
        if let claim, case .result(claim.scan, _, corrected: false) = machine.screen { shownClaim = claim.shown }
        return ScreenRenderer.Content(machine: machine, counts: counts, picture: pictures[pictureIndex], scanningFor: elapsed,
                                      claim: shownClaim)
    }

    private func isAnswer(_ screen: Screen) -> Bool {
        switch screen {
        case .result, .notSure, .emptyTray: true
        default: false
        }
    }

    private func isScanning(_ screen: Screen) -> Bool {
        if case .scanning = screen { return true }
        return false
    }

    private func isProblem(_ screen: Screen) -> Bool {
        if case .problem = screen { return true }
        return false
    }
}

@available(*, unavailable)
extension KioskLoop: Sendable {}
