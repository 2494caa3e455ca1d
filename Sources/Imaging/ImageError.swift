/// Why a picture could not be read. Each case names the source (a path or "frame").
public enum ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(source: String, errno: Int32)
    case empty(source: String)
    case unknownFormat(source: String)
    case corrupt(source: String, format: String, reason: String)
    case tooSmall(source: String, width: Int, height: Int, minimum: Int)
    case tooLarge(source: String, width: Int, height: Int, maximum: Int)

    public var description: String {
        switch self {
        case .unreadable(let source, let errno):
            "\(source): cannot read file (\(String(cString: strerror(errno))))"
        case .empty(let source):
            "\(source): file is empty, not an image"
        case .unknownFormat(let source):
            "\(source): not a JPEG or PNG image"
        case .corrupt(let source, let format, let reason):
            "\(source): corrupt \(format) image (\(reason))"
        case .tooSmall(let source, let width, let height, let minimum):
            "\(source): image is \(width)x\(height), smaller than the \(minimum)x\(minimum) minimum"
        case .tooLarge(let source, let width, let height, let maximum):
            "\(source): image is \(width)x\(height), larger than the \(maximum)x\(maximum) maximum"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
