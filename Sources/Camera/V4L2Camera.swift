import KioskCore
import Logging

/// The tray camera as a `FrameSource`: captures on its own thread, converts the newest frame to RGB and
/// publishes it. Any failure (no device, busy, unplugged, stuck stream) becomes a status and a reconnect with
/// backoff; capture resumes by itself when the camera comes back.
public final class V4L2Camera: CaptureLoopSource {
    public let settings: CameraSettings
    private let logger: Logger
    let loop: CaptureLoop

    /// - Parameter clock: what the capture thread's reconnect backoff waits on (tests move time by hand).
    public init(settings: CameraSettings, logger: Logger = Logger(label: "kiosk.camera"), clock: any WorkerClock = .system) {
        loop = CaptureLoop(clock: clock)
        self.settings = settings
        self.logger = logger
    }

    deinit { loop.stop() }

    public func start() {
        let (settings, logger) = (self.settings, self.logger)
        loop.start(device: settings.device) { mailbox in Self.run(settings: settings, mailbox: mailbox, logger: logger) }
    }

    // MARK: - The capture thread

    private static func run(settings: CameraSettings, mailbox: FrameMailbox, logger: Logger) {
        var backoff = Backoff(initial: settings.reconnectInitial, maximum: settings.reconnectMaximum)
        let converter = FrameConverter()
        let clock = ContinuousClock()
        var sequence: UInt64 = 0
        var opened = 0
        var reported: CameraStatus?
        while !mailbox.isStopping {
            do throws(CameraError) {
                mailbox.status = .starting(device: settings.device)
                let (device, format) = try CameraSetup.openStreaming(settings, logger: logger)
                opened += 1
                if opened > 1 { mailbox.updateStatistics { $0.reconnects += 1 } }
                logger.info("camera streaming", metadata: [
                    "device": "\(settings.device)", "card": "\(device.card)", "format": "\(format)",
                ])
                mailbox.status = .streaming(device: settings.device, format: format.description)
                reported = nil
                var lastFrame = clock.now
                var lastDriverSequence: UInt32?
                var healthy = false
                while !mailbox.isStopping {
                    do throws(CameraError) {
                        let started = clock.now
                        let (image, driverSequence, skipped) = try device.withNewestFrame(timeoutMilliseconds: 200) {
                            (buffer) throws(CameraError) in
                            (try converter.rgb(from: buffer.bytes, format: format,
                                               minimumShorterSide: settings.frameShorterSide, device: settings.device),
                             buffer.sequence, buffer.skippedBefore)
                        }
                        let now = clock.now
                        let gap = lastDriverSequence.map { driverSequence &- $0 &- 1 } ?? 0
                        lastDriverSequence = driverSequence
                        lastFrame = now
                        sequence += 1
                        let conversion = now - started
                        mailbox.publish(Frame(image: image, sequence: sequence, capturedAt: now)) { s in
                            s.delivered += 1
                            s.dropped += UInt64(gap < 1_000_000 ? gap : 0) + UInt64(skipped)
                            s.conversionTotal += conversion
                            s.conversionMaximum = max(s.conversionMaximum, conversion)
                            if s.firstFrameAt == nil { s.firstFrameAt = now }
                            s.lastFrameAt = now
                        }
                        if !healthy {
                            healthy = true
                            backoff.reset()
                        }
                    } catch {
                        switch error {
                        case .timeout:
                            if clock.now - lastFrame > settings.stallTimeout {
                                throw CameraError.disconnected(device: "\(settings.device) delivered no frame for \(settings.stallTimeout)")
                            }
                        case .badFrame(_, let reason):
                            mailbox.updateStatistics { $0.corrupt += 1 }
                            logger.debug("camera frame dropped", metadata: ["reason": "\(reason)"])
                        default:
                            throw error
                        }
                    }
                }
                device.stopStreaming()
            } catch {
                let status = Self.status(for: error, device: settings.device)
                if reported != status {
                    reported = status
                    logger.warning("camera problem", metadata: ["status": "\(status.description)"])
                }
                mailbox.status = status
                if !mailbox.pause(for: backoff.next()) { break }
            }
        }
        mailbox.status = .stopped
    }

    static func status(for error: CameraError, device: String) -> CameraStatus {
        switch error {
        case .noDevice: return .noDevice(device: device)
        case .busy: return .busy(device: device)
        case .disconnected(let what): return .lost(device: device, reason: what == device ? "disconnected" : "no frames")
        case .timeout: return .lost(device: device, reason: "no frames")
        case .permissionDenied, .notACaptureDevice, .unsupportedFormat, .badClip: return .failed(device: device, reason: error.description)
        case .badFrame, .system: return .lost(device: device, reason: error.description)
        }
    }
}
