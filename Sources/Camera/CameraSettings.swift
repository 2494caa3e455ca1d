/// How to open and set up the tray camera. Every field has a default that suits a C920 over a tray.
public struct CameraSettings: Sendable, Equatable {
    public enum Exposure: Sendable, Equatable {
        case auto
        /// V4L2_CID_EXPOSURE_ABSOLUTE units (100 µs).
        case manual(Int)
    }

    public enum WhiteBalance: Sendable, Equatable {
        case auto
        case kelvin(Int)
    }

    public enum Focus: Sendable, Equatable {
        case auto
        /// V4L2_CID_FOCUS_ABSOLUTE (a C920 takes 0–250 in steps of 5; larger is nearer).
        case fixed(Int)
    }

    public var device: String
    /// Tried in order; the first the camera offers is used.
    public var modes: [CaptureMode]
    public var exposure: Exposure
    public var whiteBalance: WhiteBalance
    public var focus: Focus
    /// Frames are converted at the smallest size whose shorter side is at least this (nil: full size): enough for
    /// the preview and the 224-pixel crop, and much cheaper to decode.
    public var frameShorterSide: Int?
    public var bufferCount: Int
    /// No frame for this long means the stream is stuck: the device is closed and opened again.
    public var stallTimeout: Duration
    public var reconnectInitial: Duration
    public var reconnectMaximum: Duration

    public init(
        device: String = "/dev/video0", modes: [CaptureMode] = CaptureMode.preferred, exposure: Exposure = .auto,
        whiteBalance: WhiteBalance = .auto, focus: Focus = .auto, frameShorterSide: Int? = 360, bufferCount: Int = 4,
        stallTimeout: Duration = .seconds(3), reconnectInitial: Duration = .milliseconds(250),
        reconnectMaximum: Duration = .seconds(2)
    ) {
        self.device = device
        self.modes = modes
        self.exposure = exposure
        self.whiteBalance = whiteBalance
        self.focus = focus
        self.frameShorterSide = frameShorterSide
        self.bufferCount = bufferCount
        self.stallTimeout = stallTimeout
        self.reconnectInitial = reconnectInitial
        self.reconnectMaximum = reconnectMaximum
    }
}
