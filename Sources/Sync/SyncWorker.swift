import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import KioskCore
import Logging
import SQLite
import Synchronization
import SyncWire

/// Keeps the outbox empty in the background: pushes whenever records are pending, backs off with jitter on
/// failures (2 s doubling up to 5 min), and while backing off probes the server's health every few seconds so
/// that a push starts as soon as the network or the server is back. Runs on its own thread with its own store
/// connection; never on the cooperative pool or the UI thread.
public final class SyncWorker: Sendable {
    public struct Settings: Sendable {
        public var dataDirectory: String
        /// How often to look for new records when idle (records written by another process are seen this way).
        public var pollInterval: Duration = .seconds(5)
        /// How often to probe the server while backing off.
        public var probeInterval: Duration = .seconds(3)
        public var backoffInitial: Duration = .seconds(2)
        public var backoffMaximum: Duration = .seconds(300)
        public var transport = CurlTransport.Options()
        /// Model updates from the server (nil: none); how often to ask which model is assigned.
        public var models: ModelUpdater.Hooks?
        public var modelCheckInterval: Duration = .seconds(600)
        /// Heartbeats to the server (nil: none): what the app knows of itself, and how often to send them.
        public var heartbeat: HeartbeatReport.AppFacts?
        public var heartbeatInterval: Duration = .seconds(60)

        public init(dataDirectory: String) { self.dataDirectory = dataDirectory }
    }

    public enum State: Sendable, Equatable {
        case idle
        case pushing
        case waiting(until: ContinuousClock.Instant, lastError: String)
        case stopped
    }

    private let settings: Settings
    private let logger: Logger
    private let heartbeat: @Sendable () -> Void
    private let worker: BackgroundWorker
    private let current = Mutex<State>(.stopped)
    private let lastModelCheck = Mutex<ContinuousClock.Instant?>(nil)
    private let lastHeartbeat = Mutex<ContinuousClock.Instant?>(nil)

    /// - Parameter heartbeat: called from the loop while it is healthy (its store readable), at least every
    ///   `pollInterval` or `probeInterval`: the systemd watchdog ping.
    ///   - clock: what the loop waits on (tests move time by hand).
    public init(settings: Settings, logger: Logger = Logger(label: "kiosk.sync"), clock: any WorkerClock = .system,
                heartbeat: @escaping @Sendable () -> Void = {}) {
        worker = BackgroundWorker(clock: clock)
        self.settings = settings
        self.logger = logger
        self.heartbeat = heartbeat
    }

    public var state: State { current.withLock { $0 } }

    public func start() {
        worker.start(prepare: { current.withLock { $0 = .idle } }) { [self] in self.run() }
    }

    /// Asks for a push now (a record was just stored).
    public func nudge() { worker.wake() }

    /// Stops and waits for the thread (a push in flight finishes or times out first).
    public func stop() {
        guard worker.isRunning else { return }
        worker.stop()
        current.withLock { $0 = .stopped }
    }

    /// What one pass of the loop decided: how long to wait, and how.
    private enum Next {
        case poll
        case storeUnreadable
        case retry(after: Duration, error: SyncError, transport: CurlTransport)
    }

    private func run() {
        let clock = worker.clock
        var backoff = Backoff(initial: settings.backoffInitial, maximum: settings.backoffMaximum)
        while !worker.isStopping {
            switch pass(&backoff) {
            case .poll:
                if !worker.wait(for: settings.pollInterval) { return }
            case .storeUnreadable:
                // Not healthy, so no heartbeat: systemd restarts us if this lasts past WatchdogSec.
                if !worker.wait(for: backoff.next()) { return }
            case .retry(let delay, let error, let transport):
                let until = clock.now + delay
                current.withLock { $0 = .waiting(until: until, lastError: error.description) }
                logger.warning("sync failed; retrying", metadata: ["error": "\(error)", "in": "\(delay)"])
                // Wait out the backoff, but go at once when the server answers its health check again.
                while !worker.isStopping && clock.now < until {
                    if !worker.wait(for: min(settings.probeInterval, until - clock.now)) { return }
                    heartbeat()
                    if error.isTransient && transport.isHealthy() { break }
                }
            }
        }
    }

    /// One look at the store and, when records are pending, one push. The store is opened for the pass and
    /// closed before the loop waits, so the worker holds no database handle while idle.
    private func pass(_ backoff: inout Backoff) -> Next {
        let enrollment: Enrollment?
        let store: RecordStore
        let pending: Int
        do {
            enrollment = try Enrollment.load(dataDirectory: settings.dataDirectory)
            store = try RecordStore(dataDirectory: settings.dataDirectory)
            pending = try store.pendingCount()
        } catch {
            logger.error("sync cannot read its store", metadata: ["error": "\(error)"])
            return .storeUnreadable
        }
        heartbeat()
        // Not enrolled yet: look again later (kiosk enroll may happen at any time).
        guard let enrollment else {
            current.withLock { $0 = .idle }
            return .poll
        }
        let transport = CurlTransport(enrollment: enrollment, options: settings.transport)
        guard pending > 0 else {
            checkModel(enrollment, transport)
            sendHeartbeat(enrollment, transport, store)
            current.withLock { $0 = .idle }
            return .poll
        }
        let outbox = Outbox(store: store, transport: transport, kiosk: enrollment.kiosk, logger: logger,
                            now: { WallClock.nowMilliseconds })
        current.withLock { $0 = .pushing }
        do {
            let report = try outbox.pushAll { _, _ in self.heartbeat() }
            logger.info("records synced", metadata: ["sent": "\(report.sent)", "new": "\(report.accepted)"])
            backoff.reset()
            checkModel(enrollment, transport)
            sendHeartbeat(enrollment, transport, store)
            return .poll
        } catch {
            if case .storage(let failure) = error {
                // A lock held by another process (a technician's command) clears by itself; a full disk does not.
                logger.error(failure.isBusy ? "record store locked by another process" : failure.isFull ? "disk full" : "record store failed",
                             metadata: ["error": "\(failure)"])
                return .storeUnreadable
            }
            return .retry(after: backoff.next(), error: error, transport: transport)
        }
    }

    /// Asks for the assigned model at most every `modelCheckInterval`, after a successful push or when idle; a
    /// failed check (network, refused model) waits for the next interval, the records' sync is not held up.
    private func checkModel(_ enrollment: Enrollment, _ transport: CurlTransport) {
        guard let hooks = settings.models, due(lastModelCheck, every: settings.modelCheckInterval) else { return }
        let updater = ModelUpdater(store: ModelStore(dataDirectory: settings.dataDirectory), enrollment: enrollment,
                                   hooks: hooks, logger: logger)
        do {
            let outcome = try updater.check(transport) { self.heartbeat() }
            if case .installed(let slot) = outcome { logger.info("new model ready", metadata: ["version": "\(slot.version.prefix(16))"]) }
        } catch {
            logger.warning("model check failed; trying again later", metadata: ["error": "\(error)"])
        }
    }

    /// A heartbeat at most every `heartbeatInterval`; a failed one waits for the next (it is only a report).
    private func sendHeartbeat(_ enrollment: Enrollment, _ transport: CurlTransport, _ store: RecordStore) {
        guard let facts = settings.heartbeat, due(lastHeartbeat, every: settings.heartbeatInterval) else { return }
        let beat = HeartbeatReport.make(kiosk: enrollment.kiosk, dataDirectory: settings.dataDirectory, store: store, app: facts)
        do {
            try transport.send(beat)
        } catch {
            logger.warning("heartbeat not sent", metadata: ["error": "\(error)"])
        }
    }

    private func due(_ last: borrowing Mutex<ContinuousClock.Instant?>, every interval: Duration) -> Bool {
        let now = worker.clock.now
        return last.withLock { last -> Bool in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
    }
}
