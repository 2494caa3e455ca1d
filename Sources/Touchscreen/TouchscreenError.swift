/// Why the screen could not be used; each case says what failed and SDL's or fontconfig's reason.
public enum TouchscreenError: Error, Sendable, CustomStringConvertible {
    case video(String)
    case font(String)
    case screenshot(path: String, reason: String)
    case qrCode(String)

    public var description: String {
        switch self {
        case .video(let reason): "display: \(reason)"
        case .font(let reason): "font: \(reason)"
        case .screenshot(let path, let reason): "screenshot \(path): \(reason)"
        case .qrCode(let reason): "QR code: \(reason)"
        }
    }
}
