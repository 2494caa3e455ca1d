import Dispatch
import Foundation

/// Time as the background loops see it: `now`, and a sleep their wake-up signal can cut short. Every loop takes
/// one, so tests move time by hand (`ManualWorkerClock`) instead of sleeping and polling.
public protocol WorkerClock: Sendable {
    var now: ContinuousClock.Instant { get }
    /// Blocks the calling thread until `deadline`, or until `interrupt` is signaled (the signal is consumed).
    func sleep(until deadline: ContinuousClock.Instant, interruptedBy interrupt: DispatchSemaphore)
}

/// The real monotonic clock.
public struct SystemWorkerClock: WorkerClock {
    public init() {}

    public var now: ContinuousClock.Instant { .now }

    public func sleep(until deadline: ContinuousClock.Instant, interruptedBy interrupt: DispatchSemaphore) {
        let left = deadline - .now
        guard left > .zero else { return }
        let (seconds, attoseconds) = left.components
        let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000)
        _ = interrupt.wait(timeout: .now() + .nanoseconds(max(0, nanoseconds)))
    }
}

extension WorkerClock where Self == SystemWorkerClock {
    public static var system: SystemWorkerClock { SystemWorkerClock() }
}

/// A clock for tests: time moves only by `advance(by:)`, and `waitForSleep(after:)` blocks until a loop has gone
/// to sleep in it, so a test knows the worker finished its pass, without polling.
public final class ManualWorkerClock: WorkerClock, @unchecked Sendable {
    private struct Sleeper {
        var id: Int
        var deadline: ContinuousClock.Instant
        var interrupt: DispatchSemaphore
    }

    // `offset`, `sleepers` and `began` are read and written only while holding `condition`'s lock.
    private let condition = NSCondition()
    private let origin = ContinuousClock.now
    private var offset = Duration.zero
    private var sleepers: [Sleeper] = []
    private var began = 0

    public init() {}

    private func locked<R>(_ body: () -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    public var now: ContinuousClock.Instant { locked { origin + offset } }

    /// How many sleeps have begun so far (a sleep whose deadline has already passed does not count).
    public var sleeps: Int { locked { began } }

    /// How many threads are asleep in this clock now.
    public var sleeping: Int { locked { sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant, interruptedBy interrupt: DispatchSemaphore) {
        let id: Int? = locked {
            guard deadline > origin + offset else { return nil }
            began += 1
            sleepers.append(Sleeper(id: began, deadline: deadline, interrupt: interrupt))
            condition.broadcast()
            return began
        }
        guard let id else { return }
        interrupt.wait()
        locked { sleepers.removeAll { $0.id == id } }
    }

    /// Moves time on, waking every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        locked {
            offset += duration
            let now = origin + offset
            for s in sleepers where s.deadline <= now { s.interrupt.signal() }
            sleepers.removeAll { $0.deadline <= now }
        }
    }

    /// Blocks until more than `count` sleeps have begun, and answers how many have; gives up after `timeout` of
    /// real time (a worker that never sleeps again is a failed test, not a hung one).
    @discardableResult
    public func waitForSleep(after count: Int, timeout: Duration = .seconds(30)) -> Int {
        let limit = Date(timeIntervalSinceNow: timeout / .seconds(1))
        condition.lock()
        defer { condition.unlock() }
        while began <= count, condition.wait(until: limit) {}
        return began
    }

    /// Lets the workers on this clock go through passes (each ending in a sleep) until `done` holds, at most
    /// `passes` of them, each within `timeout` of real time; answers whether `done` holds.
    public func waitForPasses(upTo passes: Int, timeout: Duration = .seconds(30), until done: () -> Bool) -> Bool {
        var seen = sleeps
        for _ in 0..<passes where !done() {
            let now = waitForSleep(after: seen, timeout: timeout)
            if now == seen { break }  // no pass within the real-time limit
            seen = now
        }
        return done()
    }
}
