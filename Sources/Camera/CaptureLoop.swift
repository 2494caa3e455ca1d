import KioskCore
import Synchronization

/// The thread and the one-frame mailbox behind a frame source: `start` runs the capture body on its own thread,
/// `stop` asks it to end and waits for it.
final class CaptureLoop: Sendable {
    let mailbox = FrameMailbox(status: .stopped)
    private let thread = Mutex<OSThread?>(nil)

    func start(device: String, _ body: @escaping @Sendable (FrameMailbox) -> Void) {
        thread.withLock { thread in
            guard thread == nil else { return }
            mailbox.reset()
            mailbox.status = .starting(device: device)
            let mailbox = self.mailbox
            thread = OSThread { body(mailbox) }
        }
    }

    func stop() {
        guard let running = thread.withLock({ t -> OSThread? in defer { t = nil }; return t }) else { return }
        mailbox.requestStop()
        running.join()
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
