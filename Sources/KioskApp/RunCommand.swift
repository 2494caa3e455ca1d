import ArgumentParser
import Camera
import Foundation
import Inference
import KioskCore
import Logging
import Screens
import Sync
import SyncWire
import Systemd
import Touchscreen

/// `kiosk run` (also plain `kiosk`): the touchscreen app residents use.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the touchscreen kiosk (the default command).")

    @Option(name: .long, help: "V4L2 camera device, or a folder of pictures or a clip (kiosk camera record) to replay as the camera (default /dev/video0).")
    var camera: String?

    @OptionGroup var cameraControls: CameraControlOptions

    @Option(name: .long, help: "Model file (.kmodel). Default: the installed model.")
    var model: String?

    @Option(name: .long, help: "Language shown first: zh or en (default zh).")
    var lang: Language?

    @Flag(name: .long, help: "A window instead of fullscreen (development).")
    var windowed = false

    @Option(name: .long, help: "Window size WIDTHxHEIGHT with --windowed (default 1280x800).")
    var size: String?

    @Option(name: .long, help: "Font: a family name or a font file (default: Noto Sans CJK SC or WenQuanYi through fontconfig).")
    var font: String?

    @Option(name: .long, help: "Catalogue file. Default: the installed one.")
    var catalogue: String?

    @Option(name: .long, help: "Ask instead of answering below this top-1 probability, 0-1 (default 0.55).")
    var minConfidence: Float?

    @Option(name: .long, help: "Ask instead of answering below this gap between the two best guesses, 0-1 (default 0.15).")
    var minMargin: Float?

    @Option(name: .long, help: "Seconds without a tap before an answer returns to the Ready screen (default 10).")
    var idleTimeout: Double?

    @Option(name: .long, help: "Frames per second when --camera is a folder.")
    var replayFps: Double = 30

    @Option(name: .long, help: "Seconds each picture stays when --camera is a folder (like an item on the tray; default 5), or each frame of a clip (default 0: as recorded).")
    var replayHold: Double?

    @Option(name: .long, help: "Threads for inference (default: all cores but one, which the screen keeps).")
    var threads: Int?

    @Option(name: .long, help: "int8 (XNNPACK; fp32 when XNNPACK cannot run the model here) or fp32 (OpenBLAS reference). Default int8.")
    var backend: InferenceBackend?

    @Flag(name: .long, help: "Keep a 96 px JPEG of the scanned frame in each record. Off by default: residents' hands and faces are private.")
    var thumbnails = false

    @Flag(name: .long, help: "Keep the model's crop of scans residents corrected or the kiosk was unsure about, synced for retraining (configuration: field_photos). Off by default: residents' hands are private.")
    var fieldPhotos = false

    @Flag(name: .long, help: "Do not sync records in the background (another process does).")
    var noSync = false

    @OptionGroup var data: DataOptions

    @Flag(name: .long, help: "Log debug details to standard error.")
    var verbose = false

    func validate() throws {
        if let minConfidence, !(0...1).contains(minConfidence) { throw ValidationError("--min-confidence must be between 0 and 1") }
        if let minMargin, !(0...1).contains(minMargin) { throw ValidationError("--min-margin must be between 0 and 1") }
        if let idleTimeout, !(1...3600).contains(idleTimeout) { throw ValidationError("--idle-timeout must be between 1 and 3600 seconds") }
        if let size, Self.parseSize(size) == nil { throw ValidationError("--size \(size): expected WIDTHxHEIGHT, e.g. 1280x800") }
        try InferenceThreads.validate(threads)
        if !(0.1...120).contains(replayFps) { throw ValidationError("--replay-fps must be between 0.1 and 120") }
        if let replayHold, !(0...3600).contains(replayHold) { throw ValidationError("--replay-hold must be between 0 and 3600 seconds") }
    }

    static func parseSize(_ text: String) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (320...7680).contains(w), (240...4320).contains(h)
        else { return nil }
        return (w, h)
    }

    func run() throws {
        Kiosk.bootstrapLogging(verbose: verbose, level: .info)
        let logger = Logger(label: "kiosk.run")
        // Command-line options win over the configuration file, which wins over the defaults.
        let file = try data.configuration()
        let cataloguePath = catalogue ?? file.catalogue
        let (catalogue, catalogueFile) = try CatalogueLoader.loadWithPath(explicit: cataloguePath)
        let texts: UIText.Table
        do {
            texts = try UIText.Table(catalogue: catalogue, source: catalogueFile)
        } catch {
            throw fail(error.description)
        }
        let fontFile: FontFile
        do {
            fontFile = try FontFinder.find(configured: font ?? file.font)
        } catch {
            throw fail(error.description)
        }

        var settings = ScreenSettings()
        settings.minimumConfidence = minConfidence ?? file.minimumConfidence.map(Float.init) ?? settings.minimumConfidence
        settings.minimumMargin = minMargin ?? file.minimumMargin.map(Float.init) ?? settings.minimumMargin
        settings.idleTimeout = .milliseconds(Int((idleTimeout ?? file.idleTimeoutSeconds ?? 10) * 1000))

        let camera = self.camera ?? file.camera.device ?? "/dev/video0"
        let source = try makeCamera(camera, file: file.camera)
        let backend = self.backend ?? file.backend ?? .int8
        let directory = data.directory
        let installed = InstalledModels(dataDirectory: directory, backend: backend)
        let engine = makeEngine(model: model ?? file.model, installed: installed, backend: backend, threads: threads ?? file.threads)
        let enrollment: Enrollment?
        do {
            enrollment = try Enrollment.load(dataDirectory: directory)
        } catch {
            logger.error("not syncing: \(error)")
            enrollment = nil
        }
        let syncWanted = !noSync && (file.sync ?? true)
        var syncSettings = SyncWorker.Settings(dataDirectory: directory)
        // A model given by hand (--model, model in the configuration) is not replaced from the server.
        if model ?? file.model == nil, file.modelUpdates ?? true { syncSettings.models = installed.hooks }
        if let seconds = file.modelCheckSeconds { syncSettings.modelCheckInterval = .milliseconds(Int(seconds * 1000)) }
        if let seconds = file.heartbeatSeconds { syncSettings.heartbeatInterval = .milliseconds(Int(seconds * 1000)) }
        let handPicked = model ?? file.model != nil
        syncSettings.heartbeat = { [source, engine, installed] in
            let camera = switch source.status {
            case .streaming: "ok"
            case .busy: "busy"
            default: source.status.description
            }
            guard case .ready(let version) = engine.status else { return (camera, nil) }
            if handPicked { return (camera, version) }
            return (camera, installed.store.activeVersion() ?? InstalledModels.bundled()?.version ?? version)
        }
        let sync = !syncWanted || enrollment == nil ? nil : SyncWorker(settings: syncSettings)
        let records = RecordWriter(startOfDay: Self.localMidnightMilliseconds, didStore: { sync?.nudge() },
                                   fieldPhotoLimit: file.fieldPhotosMaximum ?? RecordStore.fieldPhotoLimit) {
            try RecordStore(dataDirectory: directory)
        }

        var configuration = KioskLoop.Configuration(
            font: fontFile, catalogue: catalogue, texts: texts, kiosk: try data.kioskName())
        configuration.settings = settings
        configuration.language = lang ?? file.language ?? .zh
        configuration.windowed = windowed || (file.windowed ?? false)
        configuration.windowSize = size.flatMap(Self.parseSize)
        configuration.thumbnails = thumbnails || (file.thumbnails ?? false)
        configuration.fieldPhotos = fieldPhotos || (file.fieldPhotos ?? false)
        configuration.iconDirectory = ResourceLocator.firstExisting(ResourceLocator.iconCandidates)
        if let enrollment, file.claimCodes ?? true {
            // Points codes are signed offline with the kiosk's token, so they are shown without a network too.
            let key = ClaimCode.signingKey(tokenSHA256: OfflineBundle.key(forToken: enrollment.token))
            configuration.claimLink = { record, issued in
                ClaimCode(kiosk: enrollment.kiosk, record: record, issuedAtSeconds: issued).link(server: enrollment.server, key: key)
            }
        }

        let notifier = SystemdNotifier()
        let pingEvery = (SystemdNotifier.watchdogInterval ?? .seconds(20)) / 4
        var lastPing = ContinuousClock.now - pingEvery
        let loop: KioskLoop
        do {
            // The watchdog is fed from the screen loop itself: a wedged loop stops the pings and systemd restarts us.
            loop = try KioskLoop(configuration: configuration, camera: source, engine: engine, records: records) {
                let now = ContinuousClock.now
                if now - lastPing >= pingEvery {
                    notifier.watchdog()
                    lastPing = now
                }
            }
        } catch {
            throw fail(error.description)
        }
        source.start()
        engine.start()
        records.start()
        sync?.start()
        notifier.ready(status: "screen \(loop.display.width)x\(loop.display.height), camera \(camera)")
        logger.info("kiosk running: camera \(camera), data \(directory), language \(configuration.language.rawValue), idle timeout \(settings.idleTimeout), sync \(sync == nil ? "off" : "on")")

        loop.run()

        notifier.stopping()
        // What the run (and a model swap in it) cost the screen: the frame budget at 30 fps is 33 ms.
        func summary(_ times: [Duration]) -> String {
            let frames = FrameTimeSummary(times)
            guard let median = frames.median, let worst = frames.worst else { return "none" }
            return String(format: "%d frames, median %.2f ms, worst %.2f ms, %d over 33 ms", frames.count, median, worst, frames.overBudget)
        }
        logger.info("screen loop", metadata: [
            "all": "\(summary(loop.statistics.frameTimes))", "during_model_swaps": "\(summary(loop.statistics.frameTimesWhileSwapping))",
        ])
        logger.info("stopping")
        source.stop()
        engine.stop()
        let unsaved = records.stop()
        sync?.stop()
        if unsaved > 0 { throw fail("\(unsaved) scans could not be stored (see the log)") }
    }

    private func makeCamera(_ camera: String, file: KioskConfiguration.Camera) throws -> any FrameSource {
        var isDirectory: ObjCBool = false
        let isFolder = FileManager.default.fileExists(atPath: camera, isDirectory: &isDirectory) && isDirectory.boolValue
        if isFolder || ReplayFrameSource.canPlay(camera) {
            do {
                let hold = replayHold ?? (MJPEGClip.isClip(camera) ? 0 : 5)
                return try ReplayFrameSource(path: camera, framesPerSecond: replayFps, holdEach: .milliseconds(Int(hold * 1000)))
            } catch {
                throw fail("--camera \(camera): \(error)")
            }
        }
        return V4L2Camera(settings: try cameraControls.settings(device: camera, file: file))
    }

    /// The engine: the model given by hand, else the installed active model (swapped when a new one is
    /// installed, and back to the previous by itself when it does not load), else the bundled one.
    private func makeEngine(model explicit: String?, installed: InstalledModels, backend: InferenceBackend, threads: Int?) -> InferenceWorker {
        // One core stays free for the screen and the camera when there are several.
        let threads = threads ?? max(1, ImageClassifier.defaultThreads - 1)
        let preferred = backend
        let logger = Logger(label: "kiosk.engine")
        @Sendable func load(_ path: String, installed: Bool) throws -> LoadedModel {
            let (classifier, int8Failure) = try BackendFallback.load(preferred: preferred) { (backend) throws(InferenceError) in
                try ImageClassifier(modelPath: path, backend: backend, threads: threads)
            }
            if let int8Failure {
                // Slower, same answers to within int8's rounding: better than a kiosk that cannot classify.
                logger.warning("int8 backend cannot run here; using the fp32 reference", metadata: ["reason": "\(int8Failure)"])
            }
            logger.info("model loaded", metadata: ["path": "\(path)", "backend": "\(classifier.backend.rawValue)", "threads": "\(threads)"])
            let checksum = classifier.model?.checksum ?? "unknown"
            return LoadedModel(classifier: classifier, version: String(checksum.prefix(16)), installed: installed ? checksum : nil)
        }
        @Sendable func bundled() throws -> LoadedModel {
            switch ResourceLocator.model(explicit: explicit) {
            case .success(let found): return try load(found, installed: false)
            case .failure(let missing): throw missing
            }
        }
        if explicit != nil { return InferenceWorker { try bundled() } }
        let store = installed.store
        return InferenceWorker(installedChoice: { store.activeVersion() }) {
            try installed.loadActive { path in try path.map { try load($0, installed: true) } ?? bundled() }
        }
    }

    /// Local midnight today, for the Ready screen's counts.
    @Sendable static func localMidnightMilliseconds() -> Int64 {
        Int64(Calendar.current.startOfDay(for: Date()).timeIntervalSince1970 * 1000)
    }
}
