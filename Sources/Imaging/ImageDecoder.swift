import KioskCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Decodes JPEG and PNG pictures into RGB, choosing the format from the file's first bytes.
public enum ImageDecoder {
    /// Reads and decodes an image file.
    ///
    /// - Parameter minimumShorterSide: when set, a JPEG is decoded at the smallest DCT scale whose shorter side
    ///   still reaches this many pixels (a 4000 px photo needed at 256 px decodes at 1/8 scale, 8x faster).
    /// - Throws: `ImageError` naming the file and what is wrong with it.
    public static func decode(file path: String, minimumShorterSide: Int? = nil) throws(ImageError) -> RGBImage {
        let bytes = try FileBytes.read(path)
        return try decode(bytes, source: path, minimumShorterSide: minimumShorterSide)
    }

    /// Decodes an image held in memory; `source` names it in errors.
    /// - Throws: `ImageError`.
    public static func decode(_ bytes: [UInt8], source: String, minimumShorterSide: Int? = nil) throws(ImageError)
        -> RGBImage
    {
        if bytes.isEmpty { throw .empty(source: source) }
        switch ImageFormat(sniffing: bytes) {
        case .jpeg: return try JPEGDecoder().decode(bytes, source: source, minimumShorterSide: minimumShorterSide)
        case .png: return try PNGDecoder.decode(bytes, source: source)
        case nil: throw .unknownFormat(source: source)
        }
    }

    /// The format its first bytes name and the size its header states, without decoding the pixels: what an
    /// upload is checked against before memory is spent on it.
    /// - Throws: `ImageError.empty`, `.unknownFormat`, `.corrupt`.
    public static func header(_ bytes: [UInt8], source: String) throws(ImageError) -> (format: ImageFormat, width: Int, height: Int) {
        if bytes.isEmpty { throw .empty(source: source) }
        guard let format = ImageFormat(sniffing: bytes) else { throw .unknownFormat(source: source) }
        let (width, height) = switch format {
        case .jpeg: try JPEGDecoder.dimensions(bytes, source: source)
        case .png: try PNGDecoder.dimensions(bytes, source: source)
        }
        return (format, width, height)
    }
}

/// The picture formats the decoder reads, told apart by their first bytes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png

    public init?(sniffing bytes: [UInt8]) {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            self = .jpeg
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else {
            return nil
        }
    }

    /// Its media type, as an upload's Content-Type names it.
    public var mediaType: String { "image/\(rawValue)" }
}

/// Whole-file reads with errno reported once, as `ImageError`.
enum FileBytes {
    static func read(_ path: String) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .unreadable(source: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw .unreadable(source: path, errno: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .unreadable(source: path, errno: EISDIR) }
        var result = [UInt8]()
        result.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(source: path, errno: errno)
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }
}
