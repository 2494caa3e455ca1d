import KioskCore
import Logging
import Screens
import Synchronization

/// A classifier ready for use, with the version written into scan records.
public struct LoadedModel: Sendable {
    public var classifier: any Classifier
    /// The model file's checksum prefix (the records' `model_version`).
    public var version: String
    /// Which installed model this is (its full version), nil for the bundled one or a file given by hand: the
    /// worker swaps models when the installed choice stops matching it.
    public var installed: String?

    public init(classifier: any Classifier, version: String, installed: String? = nil) {
        self.classifier = classifier
        self.version = version
        self.installed = installed
    }
}

/// Runs the model on its own thread so the screen never waits for it. It loads the model itself (and keeps
/// retrying when the file is missing or damaged, so the kiosk recovers once a technician installs a good one),
/// takes one picture at a time and hands answers back as values.
public final class InferenceWorker: Sendable {
    public enum Status: Sendable, Equatable {
        case loading
        case ready(version: String)
        case unavailable(reason: String)
    }

    public struct Answer: Sendable {
        public var scan: ScanID
        public var result: Result<Classification, Failure>
        /// Time spent in the classifier alone.
        public var inference: Duration
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private struct Shared {
        var status: Status = .loading
        var job: (ScanID, RGBImage)?
        var answers: [Answer] = []
    }

    private let load: @Sendable () throws -> LoadedModel
    private let installedChoice: (@Sendable () -> String?)?
    private let retryInterval: Duration
    private let logger: Logger
    private let shared = Mutex(Shared())
    private let worker: BackgroundWorker
    private let answered = Mutex<(@Sendable () -> Void)?>(nil)
    private let swapping = Atomic<Bool>(false)

    /// - Parameters:
    ///   - clock: what the worker waits on between attempts to load the model (tests move time by hand).
    ///   - installedChoice: the installed model that should run now (nil: the bundled one), asked about once a
    ///     second while idle; when it differs from the loaded model's, `load` is called again and the new model
    ///     replaces the old between two scans, without a restart.
    public init(retryInterval: Duration = .seconds(10), logger: Logger = Logger(label: "kiosk.inference"),
                clock: any WorkerClock = .system, installedChoice: (@Sendable () -> String?)? = nil,
                load: @escaping @Sendable () throws -> LoadedModel) {
        worker = BackgroundWorker(clock: clock)
        self.load = load
        self.installedChoice = installedChoice
        self.retryInterval = retryInterval
        self.logger = logger
    }

    public var status: Status { shared.withLock { $0.status } }

    /// Whether a newly installed model is being loaded beside the running one (the screen loop measures its frames).
    public var isSwapping: Bool { swapping.load(ordering: .relaxed) }

    public func start() {
        worker.start { [self] in self.run() }
    }

    public func stop() { worker.stop() }

    /// Queues a picture; a newer submission replaces one not yet started (only the latest scan matters).
    public func submit(_ scan: ScanID, _ image: RGBImage) {
        shared.withLock { $0.job = (scan, image) }
        worker.wake()
    }

    /// Called on the worker's thread after each answer (the screen loop uses it to wake up at once).
    public func onAnswer(_ handler: @escaping @Sendable () -> Void) {
        answered.withLock { $0 = handler }
    }

    /// Answers finished since the last call.
    public func takeAnswers() -> [Answer] {
        shared.withLock { s in defer { s.answers = [] }; return s.answers }
    }

    private func run() {
        var model: LoadedModel?
        // An installed choice that failed to load, not tried again until the choice changes.
        var failedChoice: String??
        while !worker.isStopping {
            if model == nil {
                do {
                    let loaded = try load()
                    model = loaded
                    shared.withLock { $0.status = .ready(version: loaded.version) }
                    logger.info("model ready", metadata: ["version": "\(loaded.version)"])
                } catch {
                    let reason = String(describing: error)
                    let job = shared.withLock { s -> (ScanID, RGBImage)? in
                        if s.status != .unavailable(reason: reason) { logger.error("model unavailable: \(reason)") }
                        s.status = .unavailable(reason: reason)
                        defer { s.job = nil }
                        return s.job
                    }
                    if let (scan, _) = job { answer(scan, .failure(Failure(description: reason)), .zero) }
                    _ = worker.wait(for: retryInterval)
                    continue
                }
            }
            guard let current = model, let (scan, image) = shared.withLock({ s in defer { s.job = nil }; return s.job }) else {
                if let current = model, let swapped = swapIfChosen(current, failed: &failedChoice) { model = swapped }
                _ = worker.wait(for: .seconds(1))
                continue
            }
            let model = current
            let start = ContinuousClock.now
            do {
                let c = try model.classifier.classify(image)
                answer(scan, .success(c), ContinuousClock.now - start)
            } catch {
                logger.error("\(scan) failed: \(error)")
                answer(scan, .failure(Failure(description: String(describing: error))), ContinuousClock.now - start)
            }
        }
    }

    /// At an idle moment: the newly installed model when the choice changed, loaded while the old one stays in
    /// place (a scan arriving meanwhile waits for the load, the screen does not).
    private func swapIfChosen(_ current: LoadedModel, failed: inout String??) -> LoadedModel? {
        guard let installedChoice else { return nil }
        let wanted = installedChoice()
        guard wanted != current.installed, failed != .some(wanted) else { return nil }
        let start = ContinuousClock.now
        swapping.store(true, ordering: .relaxed)
        defer { swapping.store(false, ordering: .relaxed) }
        do {
            let loaded = try load()
            failed = nil
            shared.withLock { $0.status = .ready(version: loaded.version) }
            logger.info("model swapped", metadata: ["from": "\(current.version)", "to": "\(loaded.version)",
                                                    "load": "\(ContinuousClock.now - start)"])
            return loaded
        } catch {
            failed = .some(wanted)
            logger.error("new model did not load; the current one keeps running", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func answer(_ scan: ScanID, _ result: Result<Classification, Failure>, _ inference: Duration) {
        shared.withLock { $0.answers.append(Answer(scan: scan, result: result, inference: inference)) }
        answered.withLock { $0 }?()
    }
}
