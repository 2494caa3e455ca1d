import KioskCore
import Synchronization

/// The worker and the one-frame mailbox behind a frame source: `start` runs the capture body on its own thread,
/// `stop` asks it to end and waits for it. The capture's waits (frame pacing, reconnect backoff) go through the
/// worker's clock.
final class CaptureLoop: Sendable {
    let worker: BackgroundWorker
    let mailbox: FrameMailbox

    init(clock: any WorkerClock = .system) {
        worker = BackgroundWorker(clock: clock)
        mailbox = FrameMailbox(status: .stopped, signal: worker.signal)
    }

    func start(device: String, _ body: @escaping @Sendable (FrameMailbox) -> Void) {
        let mailbox = self.mailbox
        worker.start(prepare: {
            mailbox.reset()
            mailbox.status = .starting(device: device)
        }) { body(mailbox) }
    }

    func stop() {
        guard worker.isRunning else { return }
        worker.stop(beforeJoin: { mailbox.releaseReaders() })
        mailbox.status = .stopped
    }
}

/// The `FrameSource` members every source built on a `CaptureLoop` shares.
protocol CaptureLoopSource: FrameSource {
    var loop: CaptureLoop { get }
}

extension CaptureLoopSource {
    public func stop() { loop.stop() }
    public var status: CameraStatus { loop.mailbox.status }
    public var statistics: CaptureStatistics { loop.mailbox.captureStatistics }
    public func latestFrame() -> Frame? { loop.mailbox.latest }
    public func nextFrame(after sequence: UInt64?, timeout: Duration) -> Frame? {
        loop.mailbox.waitForFrame(after: sequence, timeout: timeout)
    }
}
