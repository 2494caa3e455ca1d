import Synchronization

/// The one way the kiosk runs a blocking loop (capture, SQLite, HTTP, inference): a dedicated OS thread off
/// Swift's cooperative pool, started and stopped here, woken by `wake()`, and waiting only through its clock
/// (`wait(for:)`), so that a stop is prompt and tests drive time instead of sleeping.
public final class BackgroundWorker: Sendable {
    public let signal: WakeSignal
    private let thread = Mutex<OSThread?>(nil)

    public init(clock: any WorkerClock = .system) {
        signal = WakeSignal(clock: clock)
    }

    public var clock: any WorkerClock { signal.clock }
    public var isStopping: Bool { signal.isStopping }
    public var isRunning: Bool { thread.withLock { $0 != nil } }

    /// Runs `body` on a new thread unless one is running; `body` returns once `isStopping` (or `wait` says false).
    /// `prepare` runs first, under the same lock, so a concurrent `start` cannot slip in between.
    public func start(prepare: () -> Void = {}, _ body: @escaping @Sendable () -> Void) {
        thread.withLock { t in
            guard t == nil else { return }
            signal.reset()
            prepare()
            t = OSThread(body)
        }
    }

    /// Asks the loop to end and waits for its thread; `beforeJoin` can release what else the loop may wait on.
    public func stop(beforeJoin: () -> Void = {}) {
        guard let running = thread.withLock({ t -> OSThread? in defer { t = nil }; return t }) else { return }
        signal.stop()
        beforeJoin()
        running.join()
    }

    /// Cuts the loop's current (or next) wait short.
    public func wake() { signal.wake() }

    /// Waits up to `duration` of the clock, or until woken; false when stopping.
    public func wait(for duration: Duration) -> Bool { signal.wait(for: duration) }
}
