import Camera
import Foundation
import Inference
import KioskCore
import Logging
import Screens
import Sync
import Touchscreen

/// The screen line of `kiosk selftest`: the kiosk's own screen loop, on this device's display, for a few scans
/// while the engine classifies on its thread, as a resident would use it (a tap on Scan, the answer, a tap on
/// Done). What it measures is the work per frame (events, picture upload, drawing, present), against the 33 ms a
/// frame has at 30 fps.
struct ScreenProbe {
    var scans: Int
    var modelPath: String
    var threads: Int
    /// The camera device when it streamed in the camera step; otherwise the trial photos are replayed as the camera.
    var cameraDevice: String?
    var fontName: String?
    var cataloguePath: String?

    struct Timing: Encodable {
        var driver: String
        var renderer: String
        var width: Int
        var height: Int
        var picture: String
        var scans: Int
        var frames: Int
        var medianMilliseconds: Double
        var p99Milliseconds: Double
        var maxMilliseconds: Double
        var overBudget: Int
        var scanningFrames: Int
        var scanningMedianMilliseconds: Double
        var scanningMaxMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case driver, renderer, width, height, picture, scans, frames
            case medianMilliseconds = "median_ms", p99Milliseconds = "p99_ms", maxMilliseconds = "max_ms"
            case overBudget = "over_33ms", scanningFrames = "scanning_frames"
            case scanningMedianMilliseconds = "scanning_median_ms", scanningMaxMilliseconds = "scanning_max_ms"
        }

        var line: String {
            let display = driver == "offscreen" || driver == "dummy" ? "no display, SDL's \(driver) driver" : "SDL \(driver)"
            return String(format: "%@, %@ renderer %dx%d (%@), %d scans: %d frames, median %.2f ms, p99 %.2f ms, worst %.2f ms, %d over 33 ms; while the engine ran: %d frames, median %.2f ms, worst %.2f ms",
                   display, renderer, width, height, picture, scans, frames, medianMilliseconds, p99Milliseconds, maxMilliseconds, overBudget,
                   scanningFrames, scanningMedianMilliseconds, scanningMaxMilliseconds)
        }
    }

    /// Why the screen could not be measured, as its line says it.
    struct Unmeasured: Error, CustomStringConvertible {
        var description: String
    }

    func measure() throws(Unmeasured) -> Timing {
        // Quiet: the loop's own info lines would interleave with the report.
        let logger = Logger(label: "kiosk.selftest.screen", factory: { _ in SwiftLogNoOpLogHandler() })
        let catalogue: Catalogue
        let texts: UIText.Table
        let font: FontFile
        do {
            catalogue = try CatalogueLoader.loadWithPath(explicit: cataloguePath).0
            texts = try UIText.Table(catalogue: catalogue, source: "catalogue")
            font = try FontFinder.find(configured: fontName)
        } catch {
            throw Unmeasured(description: "not measured: \(error)")
        }
        var configuration = KioskLoop.Configuration(font: font, catalogue: catalogue, texts: texts, kiosk: "selftest")
        // Every scan answers, so each one goes tap → answer → Done without the not-sure screen's choices.
        configuration.settings.minimumConfidence = 0
        configuration.settings.minimumMargin = 0
        configuration.iconDirectory = ResourceLocator.firstExisting(ResourceLocator.iconCandidates)

        let source: any FrameSource
        let picture: String
        if let cameraDevice {
            source = V4L2Camera(settings: CameraSettings(device: cameraDevice), logger: logger)
            picture = "camera \(cameraDevice)"
        } else {
            guard let photos = ResourceLocator.firstExisting(ResourceLocator.trialPhotoCandidates) else {
                throw Unmeasured(description: "not measured: no camera and no trial photos to replay (looked in \(ResourceLocator.trialPhotoCandidates.joined(separator: ", ")))")
            }
            do {
                source = try ReplayFrameSource(path: photos, framesPerSecond: 30, logger: logger)
            } catch {
                throw Unmeasured(description: "not measured: trial photos \(photos): \(error)")
            }
            picture = "no camera: trial photos replayed at 30 fps"
        }
        let (modelPath, threads) = (self.modelPath, self.threads)
        let engine = InferenceWorker(logger: logger) {
            let classifier = try ImageClassifier(modelPath: modelPath, backend: .int8, threads: threads)
            return LoadedModel(classifier: classifier, version: String((classifier.model?.checksum ?? "unknown").prefix(16)))
        }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("kiosk-selftest-\(getpid())").path
        let records = RecordWriter(logger: logger, startOfDay: { 0 }) { try RecordStore(dataDirectory: data) }
        let loop: KioskLoop
        do {
            loop = try KioskLoop(configuration: configuration, camera: source, engine: engine, records: records, logger: logger)
        } catch {
            throw Unmeasured(description: "no display: \(error)")
        }
        source.start()
        engine.start()
        records.start()
        defer {
            source.stop()
            engine.stop()
            _ = records.stop()
            try? FileManager.default.removeItem(atPath: data)
        }

        // Paced frames, as `KioskLoop.run` runs them.
        let clock = ContinuousClock()
        func frame() {
            let start = clock.now
            loop.step()
            loop.waitForNextFrame(startedAt: start)
        }
        func frames(until done: () -> Bool, within limit: Duration, what: String) throws(Unmeasured) {
            let deadline = clock.now + limit
            while !done() {
                guard clock.now < deadline else { throw Unmeasured(description: "not measured: \(what) within \(limit)") }
                frame()
            }
        }
        func frames(_ n: Int) {
            for _ in 0..<n { frame() }
        }
        try frames(until: { if case .loading = engine.status { false } else { true } }, within: .seconds(60), what: "the model did not load")
        if case .unavailable(let reason) = engine.status { throw Unmeasured(description: "not measured: the model did not load: \(reason)") }
        try frames(until: { source.latestFrame() != nil }, within: .seconds(10), what: "no picture")
        frames(15)
        loop.resetStatistics()
        for _ in 0..<scans {
            guard let scan = loop.point(for: .scan) else { throw Unmeasured(description: "not measured: no Scan button on \(loop.machine.screen)") }
            loop.injectTap(x: scan.x, y: scan.y)
            try frames(until: {
                switch loop.machine.screen {
                case .result, .notSure, .emptyTray: true
                default: false
                }
            }, within: .seconds(20), what: "no answer")
            frames(5)  // the answer on screen
            // Done on an answer; on the not-sure screen (the recycling guard) the first guess, then Done.
            if case .notSure = loop.machine.screen {
                let buttons = ScreenLayout(width: loop.display.width, height: loop.display.height).buttons(for: loop.machine)
                if let (rect, _) = buttons.first(where: { if case .choose = $0.1 { true } else { false } }) {
                    loop.injectTap(x: rect.centerX, y: rect.centerY)
                    frames(2)
                }
            }
            if let done = loop.point(for: .done) {
                loop.injectTap(x: done.x, y: done.y)
            }
            try frames(until: { loop.machine.screen == .ready }, within: .seconds(20), what: "no return to Ready")
            frames(5)  // live picture again
        }
        let all = FrameTimeSummary(loop.statistics.frameTimes)
        let scanning = FrameTimeSummary(loop.statistics.frameTimesWhileScanning)
        func rounded(_ v: Double?) -> Double { ((v ?? 0) * 100).rounded() / 100 }
        return Timing(
            driver: loop.display.videoDriver, renderer: loop.display.rendererName, width: loop.display.width, height: loop.display.height, picture: picture,
            scans: scans, frames: all.count, medianMilliseconds: rounded(all.median), p99Milliseconds: rounded(all.p99),
            maxMilliseconds: rounded(all.worst), overBudget: all.overBudget, scanningFrames: scanning.count,
            scanningMedianMilliseconds: rounded(scanning.median), scanningMaxMilliseconds: rounded(scanning.worst))
    }
}
