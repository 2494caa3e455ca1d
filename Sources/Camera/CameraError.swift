#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the camera could not do what was asked, with the device path and the system's reason.
public enum CameraError: Error, Equatable, CustomStringConvertible {
    case noDevice(device: String)
    case permissionDenied(device: String)
    case busy(device: String)
    /// The device node exists but is not a streaming video capture device (e.g. a metadata node).
    case notACaptureDevice(device: String, reason: String)
    /// None of the requested formats is offered.
    case unsupportedFormat(device: String, reason: String)
    /// The device went away while open (USB cable pulled).
    case disconnected(device: String)
    /// No frame arrived within the timeout.
    case timeout(device: String, milliseconds: Int)
    /// A frame arrived but could not be converted.
    case badFrame(device: String, reason: String)
    /// Any other failing system call.
    case system(device: String, call: String, errno: Int32)
    /// A recorded clip that cannot be played (not JPEG frames back to back, or none complete).
    case badClip(path: String, reason: String)

    public var description: String {
        switch self {
        case .noDevice(let d): return "\(d): no such camera"
        case .permissionDenied(let d): return "\(d): permission denied (is the user in the 'video' group?)"
        case .busy(let d): return "\(d): camera is busy (another program is using it)"
        case .notACaptureDevice(let d, let r): return "\(d): not a video capture device (\(r))"
        case .unsupportedFormat(let d, let r): return "\(d): \(r)"
        case .disconnected(let d): return "\(d): camera disconnected"
        case .timeout(let d, let ms): return "\(d): no frame within \(ms) ms"
        case .badFrame(let d, let r): return "\(d): unusable frame (\(r))"
        case .system(let d, let call, let e): return "\(d): \(call) failed: \(String(cString: strerror(e)))"
        case .badClip(let p, let r): return "\(p): not a playable MJPEG clip (\(r))"
        }
    }

    /// Maps a failing call's errno to the error a caller can act on.
    static func from(errno e: Int32, device: String, call: String) -> CameraError {
        switch e {
        case ENOENT, ENXIO: return .noDevice(device: device)
        case ENODEV: return .disconnected(device: device)
        case EACCES, EPERM: return .permissionDenied(device: device)
        case EBUSY: return .busy(device: device)
        default: return .system(device: device, call: call, errno: e)
        }
    }
}
