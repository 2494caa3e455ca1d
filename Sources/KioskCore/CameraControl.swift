/// A camera control the configuration file and the command line set the same way: automatic, or a fixed
/// number in the control's own V4L2 units (exposure in 100 µs, white balance in kelvin, focus 0–250 on a C920).
/// The Camera module maps it onto its own settings; this is the one parser of the text form.
public enum CameraControl: Sendable, Equatable, CustomStringConvertible {
    case auto
    case fixed(Int)

    /// The largest number a V4L2 control takes (a 32-bit signed value).
    public static let maximum = Int(Int32.max)

    /// "auto" or a whole number from 0 to `maximum`; nil for anything else.
    public init?(parsing text: String) {
        if text == "auto" {
            self = .auto
        } else if let n = Int(text), (0...Self.maximum).contains(n) {
            self = .fixed(n)
        } else {
            return nil
        }
    }

    public var fixedValue: Int? {
        if case .fixed(let n) = self { n } else { nil }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .fixed(let n): String(n)
        }
    }
}
