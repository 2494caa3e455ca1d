import KioskCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Hands frames from a capture thread to its readers: one slot, the newest frame wins. Also carries the source's
/// status and statistics; the capture thread's own waits (backoff, frame pacing) and stop request are its
/// worker's `signal`, so they run on the worker's clock and still end at once on stop.
final class FrameMailbox: @unchecked Sendable {
    // Every stored `var` below is read and written only while holding `mutex`. The mutex and condition live in
    // memory of their own: pthreads needs them at a stable address, which a class's stored property is not.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let signal: WakeSignal
    private var frame: Frame?
    private var currentStatus: CameraStatus
    private var statistics = CaptureStatistics()
    private var readersReleased = false

    init(status: CameraStatus, signal: WakeSignal) {
        currentStatus = status
        self.signal = signal
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    func publish(_ frame: Frame, update: (inout CaptureStatistics) -> Void = { _ in }) {
        locked {
            self.frame = frame
            update(&statistics)
            pthread_cond_broadcast(condition)
        }
    }

    func updateStatistics(_ update: (inout CaptureStatistics) -> Void) { locked { update(&statistics) } }

    var status: CameraStatus {
        get { locked { currentStatus } }
        set { locked { currentStatus = newValue } }
    }

    var captureStatistics: CaptureStatistics { locked { statistics } }

    var latest: Frame? { locked { frame } }

    /// Whether the capture thread should end (its worker is stopping).
    var isStopping: Bool { signal.isStopping }

    /// Ends every reader's wait for a frame (the source is stopping).
    func releaseReaders() {
        locked {
            readersReleased = true
            pthread_cond_broadcast(condition)
        }
    }

    func reset() { locked { readersReleased = false; frame = nil; statistics = CaptureStatistics() } }

    /// Waits for a frame newer than `sequence`; nil on timeout or stop.
    func waitForFrame(after sequence: UInt64?, timeout: Duration) -> Frame? {
        let deadline = Self.deadline(after: timeout)
        return locked {
            while true {
                if let f = frame, sequence.map({ f.sequence > $0 }) ?? true { return f }
                if readersReleased { return nil }
                var d = deadline
                if pthread_cond_timedwait(condition, mutex, &d) == ETIMEDOUT {
                    if let f = frame, sequence.map({ f.sequence > $0 }) ?? true { return f }
                    return nil
                }
            }
        }
    }

    /// The capture thread's wait: `duration` on its worker's clock unless a stop comes first; false when stopping.
    func pause(for duration: Duration) -> Bool { signal.wait(for: duration) }

    private static func deadline(after duration: Duration) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let (seconds, attoseconds) = max(duration, .zero).components
        var nanoseconds = Int(now.tv_nsec) + Int(attoseconds / 1_000_000_000)
        var total = Int(now.tv_sec) + Int(seconds)
        total += nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        return timespec(tv_sec: total, tv_nsec: nanoseconds)
    }
}
