/// One picture from the tray camera, already in RGB.
public struct Frame: Sendable {
    public var image: RGBImage
    /// Counts frames delivered by the source since it started; gaps mean frames were dropped.
    public var sequence: UInt64
    /// When the frame was captured, on the monotonic clock.
    public var capturedAt: ContinuousClock.Instant

    public init(image: RGBImage, sequence: UInt64, capturedAt: ContinuousClock.Instant) {
        self.image = image
        self.sequence = sequence
        self.capturedAt = capturedAt
    }
}

/// What the camera is doing, in words the UI can show and a technician can act on.
public enum CameraStatus: Sendable, Equatable {
    case starting(device: String)
    /// Delivering frames; `format` describes what was negotiated, e.g. "MJPEG 1280x720 @ 30 fps".
    case streaming(device: String, format: String)
    /// No such device (unplugged, or the wrong path): retrying.
    case noDevice(device: String)
    /// Another process holds the camera: retrying.
    case busy(device: String)
    /// The stream stopped delivering frames or the device went away: reconnecting.
    case lost(device: String, reason: String)
    /// The device works but cannot give what is asked (e.g. no usable format); retrying will not help soon.
    case failed(device: String, reason: String)
    case stopped

    public var isStreaming: Bool {
        if case .streaming = self { return true }
        return false
    }

    /// One line for logs and the technician hint.
    public var description: String {
        switch self {
        case .starting(let d): return "\(d): starting"
        case .streaming(let d, let f): return "\(d): streaming \(f)"
        case .noDevice(let d): return "\(d): no camera found (is it plugged in?)"
        case .busy(let d): return "\(d): camera busy (another program is using it)"
        case .lost(let d, let r): return "\(d): camera lost (\(r)); reconnecting"
        case .failed(let d, let r): return "\(d): camera unusable (\(r))"
        case .stopped: return "camera stopped"
        }
    }
}

/// Where frames come from: the V4L2 camera, or a replayed folder of pictures.
///
/// Sources capture on their own thread; the newest frame wins, so a slow consumer never makes a queue build up.
public protocol FrameSource: AnyObject, Sendable {
    /// Starts capturing in the background. Calling it again does nothing.
    func start()
    /// Stops capturing and releases the device; returns when the capture thread has finished.
    func stop()
    var status: CameraStatus { get }
    /// Counts since the last start: delivered, dropped, corrupt frames, reconnects, conversion time.
    var statistics: CaptureStatistics { get }
    /// The newest frame, if any arrived since the source started.
    func latestFrame() -> Frame?
    /// Waits for a frame newer than `sequence` (any frame when nil), up to `timeout`.
    func nextFrame(after sequence: UInt64?, timeout: Duration) -> Frame?
}

/// What a frame source measured since it started.
public struct CaptureStatistics: Sendable, Equatable {
    /// Frames converted and published.
    public var delivered: UInt64 = 0
    /// Frames the driver dropped (gaps in its sequence) plus frames skipped because a newer one was ready.
    public var dropped: UInt64 = 0
    /// Frames the driver marked corrupt or that failed to convert.
    public var corrupt: UInt64 = 0
    /// Times the device was (re)opened after a failure.
    public var reconnects: UInt64 = 0
    public var conversionTotal: Duration = .zero
    public var conversionMaximum: Duration = .zero
    public var firstFrameAt: ContinuousClock.Instant?
    public var lastFrameAt: ContinuousClock.Instant?

    public init() {}

    /// Frames per second between the first and the last frame.
    public var framesPerSecond: Double {
        guard let a = firstFrameAt, let b = lastFrameAt, delivered > 1 else { return 0 }
        let seconds = Double((b - a).components.seconds) + Double((b - a).components.attoseconds) / 1e18
        return seconds > 0 ? Double(delivered - 1) / seconds : 0
    }

    public var meanConversion: Duration { delivered > 0 ? conversionTotal / Int(delivered) : .zero }
}
