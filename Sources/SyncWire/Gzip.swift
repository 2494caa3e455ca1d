internal import CZlib

#if canImport(Glibc)
import Glibc
#endif

/// gzip for request bodies (the kiosk compresses, the server accepts `Content-Encoding: gzip`).
public enum Gzip {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case corrupt
        /// Decompressed, it would be larger than the limit (a zip bomb, or simply too big).
        case tooLarge(limit: Int)

        public var description: String {
            switch self {
            case .corrupt: return "the gzip body is corrupt or cut short"
            case .tooLarge(let limit): return "the body is larger than \(limit) bytes once decompressed"
            }
        }
    }

    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let rc = bytes.withUnsafeBufferPointer { kiosk_gzip($0.baseAddress, $0.count, &output, &length) }
        // Compressing memory fails only when out of memory.
        precondition(rc == 0, "gzip compression failed (\(rc))")
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }

    public static func decompress(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var length = 0
        let rc = bytes.withUnsafeBufferPointer { kiosk_gunzip($0.baseAddress, $0.count, limit, &output, &length) }
        if rc == KIOSK_GUNZIP_TOO_LARGE { throw .tooLarge(limit: limit) }
        if rc != 0 { throw .corrupt }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
