import Camera
import Foundation
import Imaging
import Inference
import KioskCore
import Screens
import Sync
import Synchronization
import Testing
import Touchscreen

/// The app on SDL's offscreen driver, driven by taps through SDL's event queue: every screen in both languages,
/// checked by region and saved under .build/screenshots.
@Suite(.serialized) struct RenderingTests {
    let layout = ScreenLayout(width: 1280, height: 800)

    static func catalogue() throws -> Catalogue {
        let bytes = try #require(FileManager.default.contents(atPath: ScreenHarness.root + "/Resources/catalogue.json"))
        return try Catalogue(json: Array(bytes), source: "catalogue.json")
    }

    func replay(_ picture: String) throws -> ReplayFrameSource {
        try ReplayFrameSource(path: "\(ScreenHarness.fixtures)/\(picture).jpg", framesPerSecond: 30)
    }

    func ready(_ h: ScreenHarness) {
        h.step(until: { _ in h.engine.status != .loading && h.camera.latestFrame() != nil && h.records.snapshot.health == .ok },
               "model, camera and store")
        h.step(for: .milliseconds(100))
    }

    var answerSettings: ScreenSettings {
        var s = ScreenSettings()
        s.minimumConfidence = 0
        s.minimumMargin = 0
        return s
    }

    /// Banner in the bin's colour (a margin column and a strip under the name), its name written in the readable
    /// text colour, guidance in white below, the Done button in the accent colour.
    func checkResult(_ shot: RGBImage, category: CategoryInfo, _ name: String) throws {
        let colour = try #require(Colour(hex: category.color))
        let banner = layout.banner
        #expect(shot.share(of: colour, in: Rect(x: 0, y: 0, width: 24, height: banner.height)) > 0.95, "\(name): banner colour")
        #expect(shot.share(of: colour, in: Rect(x: 0, y: banner.maxY - 12, width: banner.width, height: 10)) > 0.95, "\(name): banner colour")
        let nameBox = Rect(x: 240, y: 20, width: 700, height: banner.height - 40)
        #expect(shot.share(of: colour.textColour, in: nameBox, tolerance: 40) > 0.02, "\(name): bin name written")
        let guidance = Rect(x: 0, y: banner.maxY, width: 1280, height: layout.doneButton.y - banner.maxY)
        #expect(shot.share(of: .white, in: guidance, tolerance: 40) > 0.01, "\(name): guidance written")
        #expect(shot.share(of: .accent, in: layout.doneButton) > 0.6, "\(name): Done button")
        #expect(shot.share(of: .black, in: layout.doneButton.inset(by: 16), tolerance: 60) > 0.01, "\(name): Done label")
    }

    @Test func tapScanResultDoneInBothLanguages() throws {
        let h = try ScreenHarness(camera: try replay("glass"), settings: answerSettings)
        ready(h)
        let frame = try #require(h.camera.latestFrame())
        let expected = try ImageClassifier(modelPath: ScreenHarness.model, backend: .int8, threads: 2).classify(frame.image)
        let catalogue = try Self.catalogue()
        let category = catalogue.info(for: try #require(catalogue.category(forLabel: expected.top.label)))

        for language in ["zh", "en"] {
            let shot = try h.screenshot("ready-\(language)")
            // The live picture fills the screen; the prompt band carries the prompt in the accent colour.
            #expect(shot.share(of: .night, in: Rect(x: 100, y: 200, width: 1000, height: 300)) < 0.2)
            #expect(shot.share(of: .accent, in: layout.promptBand) > 0.01)
            #expect(shot.share(of: .accent, in: layout.languageToggle) > 0.3)
            if language == "zh" { h.tap(.toggleLanguage) }
        }
        #expect(h.loop.machine.language == .en)

        h.tap(.scan)
        if case .scanning = h.loop.machine.screen {
            let shot = try h.screenshot("scanning-en")
            #expect(shot.share(of: .white, in: Rect(x: 48, y: 272, width: 1184, height: 112), tolerance: 40) > 0.01)
        }
        h.step(until: { if case .result = $0.machine.screen { true } else { false } }, "the result")
        for language in ["en", "zh"] {
            try checkResult(try h.screenshot("result-\(language)"), category: category, "result \(language)")
            if language == "en" { h.tap(.toggleLanguage) }
        }
        h.tap(.done)
        #expect(h.loop.machine.screen == .ready)
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")

        let records = try h.storedRecords(count: 1)
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.label == expected.top.label)
        #expect(record.category == category.id)
        #expect(record.language == .zh)
        #expect(record.correction == nil)
        #expect(record.kiosk == "test-kiosk")
        #expect(abs(record.confidence - Double(expected.top.probability)) < 1e-6)
        #expect(record.top.count == 3)
        #expect(record.thumbnail == nil, "thumbnails are off by default")
        #expect(record.asked == false)
        // Today's count on Ready includes the scan.
        h.step(for: .milliseconds(50))
        #expect(h.records.snapshot.todayCounts[category.id] == 1)
    }

    @Test func notSureShowsThreeGuessesAndTheChoiceIsRecordedAsACorrection() throws {
        var settings = ScreenSettings()
        settings.minimumConfidence = 1  // the model is never sure enough: always ask
        let h = try ScreenHarness(camera: try replay("food"), settings: settings, language: .en)
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .notSure = $0.machine.screen { true } else { false } }, "the not-sure screen")
        let guesses = h.loop.machine.guesses
        #expect(guesses.count == 3)
        for language in ["en", "zh"] {
            let shot = try h.screenshot("not-sure-\(language)")
            for i in 0..<3 {
                #expect(shot.share(of: .panel, in: layout.guessButton(i)) > 0.4, "guess \(i) button")
                #expect(shot.share(of: .white, in: layout.guessButton(i), tolerance: 40) > 0.01, "guess \(i) text")
            }
            #expect(shot.share(of: .accent, in: layout.browseButton, tolerance: 30) > 0.05)
            // The frame that was judged, beside the guesses.
            #expect(shot.share(of: .night, in: layout.notSurePicture.inset(by: 8)) < 0.2, "the judged frame")
            if language == "en" { h.tap(.toggleLanguage) }
        }
        let choice = guesses[1].label
        h.tap(.choose(choice))
        let catalogue = try Self.catalogue()
        let category = catalogue.info(for: try #require(catalogue.category(forLabel: choice)))
        try checkResult(try h.screenshot("corrected-zh"), category: category, "corrected")
        h.tap(.done)
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        let record = try #require(try h.storedRecords(count: 1).first)
        #expect(record.correction == choice)
        #expect(record.label == guesses[0].label)
        #expect(record.asked == true)
    }

    @Test func theResultShowsTheJudgedFrameAndTheHazardousLookAlikeSwitchesBins() throws {
        // The glass fixture is a confident, guard-safe glass answer; glass has a look-alike line (bulbs, tubes).
        let h = try ScreenHarness(camera: try replay("glass"), language: .en)
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .result = $0.machine.screen { true } else { false } }, "the result")
        #expect(h.loop.machine.screen == .result(ScanID(1), shown: .label("glass"), corrected: false))
        let catalogue = try Self.catalogue()
        let hazardous = catalogue.info(for: .hazardous)
        let red = try #require(Colour(hex: hazardous.color))
        for language in ["en", "zh"] {
            let shot = try h.screenshot("result-look-alike-\(language)")
            #expect(shot.share(of: .night, in: layout.resultPicture.inset(by: 8)) < 0.2, "the judged frame")
            #expect(shot.share(of: .panel, in: layout.lookAlikeButton) > 0.3, "look-alike line")
            #expect(shot.share(of: .white, in: layout.lookAlikeButton, tolerance: 40) > 0.01, "look-alike text")
            #expect(shot.share(of: red, in: layout.lookAlikeButton) > 0.02, "hazardous outline and icon")
            if language == "en" { h.tap(.toggleLanguage) }
        }
        h.tap(.chooseLookAlike)
        #expect(h.loop.machine.screen == .result(ScanID(1), shown: .category(.hazardous), corrected: true))
        try checkResult(try h.screenshot("look-alike-hazardous-zh"), category: hazardous, "look-alike hazardous")
        h.tap(.done)
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        let record = try #require(try h.storedRecords(count: 1).first)
        #expect(record.label == "glass")
        #expect(record.correction == "category:hazardous")
        #expect(record.asked == false)
    }

    /// Decodes the QR codes in a PNG with zbar (scripts/setup-test-tools installs zbar-tools).
    static func decodeQR(_ png: String) throws -> [String] {
        let zbar = "/usr/bin/zbarimg"
        try #require(FileManager.default.isExecutableFile(atPath: zbar), "zbarimg is missing: run scripts/setup-test-tools")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: zbar)
        process.arguments = ["--quiet", "--raw", png]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test(arguments: [(1280, 800), (800, 480)])
    func anUncorrectedAnswerShowsAPointsCodeThatNamesItsRecord(_ width: Int, _ height: Int) throws {
        let links = LinkLog()
        let h = try ScreenHarness(camera: try replay("glass"), language: .en, size: (width, height), claimLink: { record, issued in
            links.add("https://kiosk.city.example/resident/claim?c=1~test-kiosk~\(record.uuidString.lowercased())~\(issued)~sig")
        })
        let layout = ScreenLayout(width: width, height: height)
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .result = $0.machine.screen { true } else { false } }, "the result")
        h.step(for: .milliseconds(50))
        #expect(links.all.count == 1, "one code per scan, however many frames show it")
        let link = try #require(links.all.first)
        for language in ["en", "zh"] {
            let name = "result-points-\(language)-\(width)x\(height)"
            let shot = try h.screenshot(name)
            // The code sits where the judged frame would: white with black modules.
            #expect(shot.share(of: .white, in: layout.resultPicture) > 0.4, "\(name): the code's white")
            #expect(shot.share(of: .black, in: layout.resultPicture) > 0.2, "\(name): the code's modules")
            #expect(try Self.decodeQR("\(ScreenHarness.screenshots)/\(name).png") == [link], "\(name): the code reads back")
            if language == "en" { h.tap(.toggleLanguage) }
        }
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        h.tap(.done)
        let record = try #require(try h.storedRecords(count: 1).first)
        #expect(link.contains(record.id.uuidString.lowercased()), "the code names the stored record")
        #expect(record.correction == nil)
    }

    @Test func aCorrectedAnswerShowsNoCode() throws {
        let links = LinkLog()
        let h = try ScreenHarness(camera: try replay("glass"), language: .en, claimLink: { record, _ in
            links.add("https://kiosk.city.example/resident/claim?c=\(record)")
        })
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .result = $0.machine.screen { true } else { false } }, "the result")
        h.tap(.chooseLookAlike)
        #expect(h.loop.machine.screen == .result(ScanID(1), shown: .category(.hazardous), corrected: true))
        let shot = try h.screenshot("result-corrected-no-code")
        #expect(shot.share(of: .white, in: layout.resultPicture) < 0.3, "no code once the resident corrected the answer")
        h.tap(.done)
        let record = try #require(try h.storedRecords(count: 1).first)
        // The code shown before the correction names this record, which the server then counts as void.
        #expect(links.all.count == 1 && links.all[0].contains(record.id.uuidString))
    }

    @Test func browseAllBinsAndPickOneTheModelDoesNotKnow() throws {
        var settings = ScreenSettings()
        settings.minimumConfidence = 1
        let h = try ScreenHarness(camera: try replay("electronics"), settings: settings, language: .en)
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .notSure = $0.machine.screen { true } else { false } }, "the not-sure screen")
        h.tap(.browse)
        let catalogue = try Self.catalogue()
        for language in ["en", "zh"] {
            let shot = try h.screenshot("browse-\(language)")
            for (i, category) in WasteCategory.allCases.enumerated() {
                let colour = try #require(Colour(hex: catalogue.info(for: category).color))
                #expect(shot.share(of: colour, in: layout.categoryButton(i)) > 0.4, "\(category) button colour")
            }
            if language == "en" { h.tap(.toggleLanguage) }
        }
        h.tap(.chooseCategory(.hazardous))
        try checkResult(try h.screenshot("hazardous-zh"), category: catalogue.info(for: .hazardous), "hazardous")
        h.tap(.done)
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        #expect(try h.storedRecords(count: 1).first?.correction == "category:hazardous")
    }

    @Test func anEmptyTrayAsksForTheItemInsteadOfGuessing() throws {
        let h = try ScreenHarness(camera: try replay("paper"), language: .en)
        ready(h)
        // The unchanging picture is learned as the empty tray after about two seconds on Ready.
        h.step(for: .milliseconds(2600))
        h.tap(.scan)
        #expect(h.loop.machine.screen == .emptyTray)
        for language in ["en", "zh"] {
            let shot = try h.screenshot("empty-tray-\(language)")
            #expect(shot.share(of: .accent, in: Rect(x: 128, y: 200, width: 1024, height: 400)) > 0.03)
            if language == "en" { h.tap(.toggleLanguage) }
        }
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        h.step(for: .milliseconds(100))
        #expect(h.records.snapshot.stored == 0)
    }

    @Test func problemScreensShowAndClearByThemselves() throws {
        // No camera.
        do {
            let h = try ScreenHarness(camera: V4L2Camera(settings: CameraSettings(device: "/dev/video-kiosk-test-missing")))
            h.step(until: { $0.machine.screen == .problem(.camera) }, "the camera problem")
            let shot = try h.screenshot("problem-camera-zh")
            #expect(shot.share(of: .white, in: Rect(x: 48, y: 200, width: 1184, height: 176), tolerance: 40) > 0.01)
            #expect(h.loop.machine.problems[.camera]?.contains("no camera found") == true)
            h.tap(.toggleLanguage)
            try h.screenshot("problem-camera-en")
            h.loop.injectTap(x: 640, y: 400)  // a tap does not scan without a camera
            h.loop.step()
            #expect(h.loop.machine.screen == .problem(.camera))
        }
        // No model.
        do {
            let h = try ScreenHarness(camera: try replay("glass"), language: .en, model: nil)
            h.step(until: { $0.machine.screen == .problem(.model) }, "the model problem")
            try h.screenshot("problem-model-en")
        }
        // The data folder cannot be created (a file is in the way); removing the file heals it.
        let blocked = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-blocked-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: blocked, contents: Data("x".utf8)))
        let h = try ScreenHarness(camera: try replay("glass"), language: .en, dataDirectory: blocked + "/data")
        h.step(until: { $0.machine.screen == .problem(.storage) }, "the storage problem")
        try h.screenshot("problem-storage-en")
        try FileManager.default.removeItem(atPath: blocked)
        // The writer retries on its backoff (at most 10 s), on its own clock.
        h.recordsClock.advance(by: .seconds(10))
        h.step(until: { $0.machine.screen == .ready }, timeout: .seconds(30), "recovery")
        #expect(h.loop.textOverflows.isEmpty, "clipped: \(h.loop.textOverflows)")
        h.records.stop()
        try? FileManager.default.removeItem(atPath: blocked)  // the data folder the writer made once it could
    }

    @Test func thumbnailsWhenAskedAreTheScannedFrameAt96Pixels() throws {
        // Glass: an answer the recycling guard lets through (the metal fixture's is held back for a question).
        let h = try ScreenHarness(camera: try replay("glass"), settings: answerSettings, thumbnails: true)
        ready(h)
        h.tap(.scan)
        h.step(until: { if case .result = $0.machine.screen { true } else { false } }, "the result")
        h.tap(.done)
        let record = try #require(try h.storedRecords(count: 1).first)
        let jpeg = try #require(record.thumbnail)
        let image = try ImageDecoder.decode(Array(jpeg), source: "thumbnail")
        #expect(min(image.width, image.height) == 96)
        #expect(jpeg.count < 12_000)
    }

    /// The systemd watchdog is fed from the screen loop itself: one heartbeat per frame, none while no frame runs.
    @Test func theWatchdogHeartbeatComesFromTheLoop() throws {
        final class Counter { var beats = 0 }
        let counter = Counter()
        let h = try ScreenHarness(camera: try replay("glass"), heartbeat: { counter.beats += 1 })
        for _ in 0..<25 { h.loop.step() }
        #expect(counter.beats == 25)
        // The camera's thread goes on delivering frames; the loop does not run, so no beat.
        let frame = h.camera.latestFrame()
        let later = h.camera.nextFrame(after: frame?.sequence, timeout: .seconds(5))
        #expect(later != nil && h.camera.nextFrame(after: later?.sequence, timeout: .seconds(5)) != nil)
        #expect(counter.beats == 25)
        h.loop.step()
        #expect(counter.beats == 26)
    }

    @Test func smallerScreensStillFitEveryText() throws {
        var settings = ScreenSettings()
        settings.minimumConfidence = 1
        for (width, height) in [(1024, 600), (800, 480)] {
            let h = try ScreenHarness(camera: try replay("metal"), settings: settings, language: .en, size: (width, height))
            ready(h)
            h.tap(.scan)
            h.step(until: { if case .notSure = $0.machine.screen { true } else { false } }, "not sure")
            for language in ["en", "zh"] {
                try h.screenshot("not-sure-\(width)x\(height)-\(language)")
                h.tap(.browse)
                try h.screenshot("browse-\(width)x\(height)-\(language)")
                h.tap(.chooseCategory(.bulky))
                try h.screenshot("bulky-\(width)x\(height)-\(language)")
                h.tap(.notRight)
                h.tap(.toggleLanguage)
            }
            #expect(h.loop.textOverflows.isEmpty, "clipped at \(width)x\(height): \(h.loop.textOverflows)")
        }
    }

    @Test func lessonsQuizAndLearnAtBothSizesInBothLanguages() throws {
        var settings = ScreenSettings()
        settings.learningAfter = .zero
        settings.lessonTime = .seconds(2)
        settings.questionTime = .seconds(3600)
        settings.answerTime = .seconds(3600)
        let catalogue = try Self.catalogue()
        for (width, height) in [(1280, 800), (800, 480)] {
            let size = "\(width)x\(height)"
            let layout = ScreenLayout(width: width, height: height)
            let h = try ScreenHarness(camera: try replay("glass"), settings: settings, language: .en, size: (width, height))
            ready(h)
            h.step(until: { if case .lesson = $0.machine.band { true } else { false } }, "a lesson")
            for language in ["en", "zh"] {
                let shot = try h.screenshot("lesson-\(size)-\(language)")
                #expect(shot.share(of: .white, in: layout.promptBand, tolerance: 40) > 0.01, "lesson text written")
                #expect(shot.share(of: .accent, in: layout.learnButton.inset(by: 2), tolerance: 40) > 0.02, "Learn button")
                h.tap(.toggleLanguage)
            }
            h.step(until: { if case .question = $0.machine.band { true } else { false } }, "a question")
            guard case .question(let index) = h.loop.machine.band else { return }
            for language in ["en", "zh"] {
                let shot = try h.screenshot("quiz-\(size)-\(language)")
                for (i, category) in WasteCategory.allCases.enumerated() {
                    let colour = try #require(Colour(hex: catalogue.info(for: category).color))
                    #expect(shot.share(of: colour, in: layout.quizButton(i)) > 0.3, "\(category) button")
                }
                h.tap(.toggleLanguage)
            }
            let question = h.loop.machine.questions[index]
            h.tap(.answerQuiz(question.answer))
            #expect(h.loop.machine.band == .answered(index, question.answer))
            #expect(h.loop.statistics.quizAnswers == 1)
            // The answer is a record in the kiosk's store, to be synced like the scans.
            _ = h.recordsClock.waitForPasses(upTo: 20, timeout: .seconds(10)) { h.records.snapshot.stored >= 1 }
            let stored = try RecordStore(dataDirectory: h.dataDirectory).pendingQuiz(limit: 10)
            #expect(stored.map(\.question) == [question.id])
            #expect(stored.first?.right == true && stored.first?.answer == question.answer && stored.first?.kiosk == "test-kiosk")
            for language in ["en", "zh"] {
                let shot = try h.screenshot("quiz-answered-\(size)-\(language)")
                let colour = try #require(Colour(hex: catalogue.info(for: question.answer).color))
                #expect(shot.share(of: colour, in: layout.quizBand) > 0.02, "the right bin's chip")
                h.tap(.toggleLanguage)
            }
            h.tap(.learn)
            #expect(h.loop.machine.screen == .learn)
            for language in ["en", "zh"] {
                let shot = try h.screenshot("learn-\(size)-\(language)")
                for (i, category) in WasteCategory.allCases.enumerated() {
                    let colour = try #require(Colour(hex: catalogue.info(for: category).color))
                    #expect(shot.share(of: colour, in: layout.learnCard(i)) > 0.1, "\(category) card")
                    #expect(shot.share(of: .white, in: layout.learnCard(i), tolerance: 40) > 0.005, "\(category) items written")
                }
                h.tap(.toggleLanguage)
            }
            h.tap(.back)
            #expect(h.loop.machine.screen == .ready)
            #expect(h.loop.textOverflows.isEmpty, "clipped at \(size): \(h.loop.textOverflows)")
        }
    }
}

/// The links the loop asked for (from the screen thread).
final class LinkLog: Sendable {
    private let links = Mutex<[String]>([])
    func add(_ link: String) -> String {
        links.withLock { $0.append(link) }
        return link
    }
    var all: [String] { links.withLock { $0 } }
}
