#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be written; the old file, if any, is untouched.
public struct FileWriteError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "\(path): \(reason)" }
}

/// Writes a file so that readers see either the old file or the whole new one, even across a power cut.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileWriteError) {
        let writer = try AtomicFileWriter(path: path, mode: mode)
        try writer.append(bytes)
        try writer.commit()
    }
}

/// A file written piece by piece (e.g. a clip as frames arrive) that appears under its name only when `commit`
/// succeeds: until then it is a temporary file beside it, removed if the writer goes away uncommitted.
public final class AtomicFileWriter {
    public let path: String
    private let temporary: String
    private var fd: Int32

    public init(path: String, mode: mode_t = 0o644) throws(FileWriteError) {
        self.path = path
        temporary = "\(path).tmp-\(getpid())"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw FileWriteError(path: path, reason: "cannot create (\(String(cString: strerror(errno))))") }
        // open() applies the umask; the mode asked for is what the file must have (e.g. 0600 for secrets).
        _ = fchmod(fd, mode)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
    }

    public func append(_ bytes: [UInt8]) throws(FileWriteError) {
        let result: Result<Void, FileWriteError> = bytes.withUnsafeBytes { raw in
            do throws(FileWriteError) {
                try append(raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(path: path, reason: "already committed") }
        var written = 0
        while written < bytes.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            #else
            let n = write(fd, bytes.baseAddress! + written, bytes.count - written)
            #endif
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw failure("cannot write") }
            written += n
        }
    }

    /// Flushes the file, moves it into place and flushes the rename; after an error nothing is left behind.
    public func commit() throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(path: path, reason: "already committed") }
        if fsync(fd) != 0 { throw failure("cannot flush") }
        let closed = close(fd)
        fd = -1
        if closed != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileWriteError(path: path, reason: "cannot flush (\(reason))")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileWriteError(path: path, reason: "cannot move into place (\(reason))")
        }
        // The rename itself must reach the disk too.
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    /// Closes and removes the temporary file; the error to throw.
    private func failure(_ what: String) -> FileWriteError {
        let reason = String(cString: strerror(errno))
        close(fd)
        fd = -1
        unlink(temporary)
        return FileWriteError(path: path, reason: "\(what) (\(reason))")
    }
}
