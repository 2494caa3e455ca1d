import Dispatch
import Synchronization

/// A wake-up flag with a timed wait through a clock, and the stop request.
public final class WakeSignal: Sendable {
    public let clock: any WorkerClock

    public init(clock: any WorkerClock = .system) { self.clock = clock }

    private struct Flags {
        var woken = false
        var stopping = false
    }

    private let flags = Mutex(Flags())
    private let semaphore = DispatchSemaphore(value: 0)

    public func reset() { flags.withLock { $0 = Flags() } }

    public var isStopping: Bool { flags.withLock { $0.stopping } }

    public func wake() {
        // Only the first wake since the last wait signals: a burst of wakes is one wake-up, not many.
        let already = flags.withLock { f -> Bool in defer { f.woken = true }; return f.woken }
        if !already { semaphore.signal() }
    }

    public func stop() {
        flags.withLock { $0.stopping = true }
        semaphore.signal()
    }

    /// Waits up to `duration` on the clock or until woken; false when stopping.
    public func wait(for duration: Duration) -> Bool {
        let woken = flags.withLock { f -> Bool in defer { f.woken = false }; return f.woken }
        if woken {
            // Take the wake's signal too, so that the next wait does not return at once.
            _ = semaphore.wait(timeout: .now())
        } else if !isStopping {
            clock.sleep(until: clock.now + max(duration, .zero), interruptedBy: semaphore)
            flags.withLock { $0.woken = false }
        }
        return !isStopping
    }
}
