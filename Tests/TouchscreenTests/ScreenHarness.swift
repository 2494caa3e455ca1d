import Camera
import Foundation
import Imaging
import Inference
import KioskCore
import Screens
import Sync
import Testing
import Touchscreen

/// The real kiosk loop on SDL's offscreen driver: the replay camera, the shipped model on its thread, a real
/// SQLite record store in a temporary folder. Taps go through SDL's event queue.
final class ScreenHarness {
    static let root = "/" + String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")
    static let fixtures = root + "/Tests/Fixtures/model"
    static let screenshots = root + "/.build/screenshots"
    static let model = root + "/Resources/models/default.kmodel"

    let loop: KioskLoop
    let camera: any FrameSource
    let engine: InferenceWorker
    let records: RecordWriter
    /// The record writer's clock: time stands still for it, so it stores only when a scan wakes it.
    let recordsClock = ManualWorkerClock()
    let dataDirectory: String
    /// A data directory the harness made for itself, removed when it ends.
    private let ownsDataDirectory: Bool

    init(camera: any FrameSource, settings: ScreenSettings = ScreenSettings(), language: Language = .zh,
         size: (Int, Int) = (1280, 800), model: String? = ScreenHarness.model,
         dataDirectory: String? = nil, thumbnails: Bool = false, claimLink: (@Sendable (UUID, Int64) -> String)? = nil,
         heartbeat: @escaping () -> Void = {}) throws {
        setenv("SDL_VIDEODRIVER", "offscreen", 1)
        let catalogueBytes = try #require(FileManager.default.contents(atPath: Self.root + "/Resources/catalogue.json"))
        let catalogue = try Catalogue(json: Array(catalogueBytes), source: "catalogue.json")
        let texts = try UIText.Table(catalogue: catalogue, source: "catalogue.json")
        var configuration = KioskLoop.Configuration(
            font: try FontFinder.find(configured: nil), catalogue: catalogue, texts: texts, kiosk: "test-kiosk")
        configuration.settings = settings
        configuration.language = language
        configuration.windowed = true
        configuration.windowSize = size
        configuration.iconDirectory = Self.root + "/Resources/icons"
        configuration.problemGrace = .zero
        configuration.thumbnails = thumbnails
        configuration.claimLink = claimLink
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("kiosk-screen-\(UUID().uuidString)").path
        self.dataDirectory = directory
        ownsDataDirectory = dataDirectory == nil
        self.camera = camera
        engine = InferenceWorker(retryInterval: .seconds(60)) {
            guard let model else { throw HarnessError("no model installed (test)") }
            let classifier = try ImageClassifier(modelPath: model, backend: .int8, threads: 2)
            return LoadedModel(classifier: classifier, version: String(classifier.model!.checksum.prefix(16)))
        }
        records = RecordWriter(clock: recordsClock, startOfDay: { 0 }) { try RecordStore(dataDirectory: directory) }
        loop = try KioskLoop(configuration: configuration, camera: camera, engine: engine, records: records, heartbeat: heartbeat)
        camera.start()
        engine.start()
        records.start()
    }

    deinit {
        camera.stop()
        engine.stop()
        records.stop()
        if ownsDataDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// Steps the loop until `condition` holds; fails the test after `timeout`.
    func step(until condition: (KioskLoop) -> Bool, timeout: Duration = .seconds(20), _ what: String,
              sourceLocation: SourceLocation = #_sourceLocation) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            loop.step()
            if condition(loop) { return }
            nextCameraFrame()
        }
        Issue.record("timed out waiting for \(what); screen is \(loop.machine.screen)", sourceLocation: sourceLocation)
    }

    /// Steps for a while (so the camera delivers and the tray background settles).
    func step(for duration: Duration) {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            loop.step()
            nextCameraFrame()
        }
    }

    /// Blocks until the camera delivers a newer frame (at most 100 ms: a missing camera delivers none), so each
    /// step has something new to show. Not the loop's SDL wait: pumping SDL's queue there lets an injected tap
    /// land a frame late.
    private func nextCameraFrame() {
        _ = camera.nextFrame(after: camera.latestFrame()?.sequence, timeout: .milliseconds(100))
    }

    func tap(_ action: ScreenAction, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let point = loop.point(for: action) else {
            Issue.record("no \(action) button on \(loop.machine.screen)", sourceLocation: sourceLocation)
            return
        }
        loop.injectTap(x: point.x, y: point.y)
        loop.step()
    }

    /// Saves the screen as `.build/screenshots/NAME.png` and returns its pixels.
    @discardableResult
    func screenshot(_ name: String) throws -> RGBImage {
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        try loop.saveScreenshot(to: "\(Self.screenshots)/\(name).png")
        return try loop.capture()
    }

    /// The records stored so far (waits for the writer thread).
    func storedRecords(count: Int) throws -> [ScanRecord] {
        // Each pass of the writer ends in a sleep on its clock: wait for passes, not for time.
        _ = recordsClock.waitForPasses(upTo: 20, timeout: .seconds(10)) { records.snapshot.stored >= count }
        return try RecordStore(dataDirectory: dataDirectory).all()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Pixel checks on screenshots.
extension RGBImage {
    func pixel(_ x: Int, _ y: Int) -> Colour {
        let o = (y * width + x) * 3
        return Colour(red: pixels[o], green: pixels[o + 1], blue: pixels[o + 2])
    }

    /// Share of the rectangle's pixels within `tolerance` of `colour` on every channel.
    func share(of colour: Colour, in rect: Rect, tolerance: Int = 12) -> Double {
        var hits = 0, total = 0
        for y in stride(from: rect.y, to: rect.maxY, by: 2) {
            for x in stride(from: rect.x, to: rect.maxX, by: 2) {
                let p = pixel(x, y)
                total += 1
                if abs(Int(p.red) - Int(colour.red)) <= tolerance && abs(Int(p.green) - Int(colour.green)) <= tolerance
                    && abs(Int(p.blue) - Int(colour.blue)) <= tolerance { hits += 1 }
            }
        }
        return total > 0 ? Double(hits) / Double(total) : 0
    }
}
