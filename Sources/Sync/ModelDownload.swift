internal import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SQLite
import SyncWire

extension CurlTransport {
    /// Downloads `path` (relative to the server) into `file`, continuing a part already there with a `Range`
    /// request; the file holds `expectedSize` bytes when this returns. A cut connection leaves what arrived, for
    /// the next call to continue. `progress` is called as bytes arrive (the watchdog's heartbeat).
    public func download(_ path: String, to file: String, expectedSize: Int, progress: @escaping () -> Void = {}) throws(SyncError) {
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .storage(StoreError(path: file, reason: "cannot open (\(String(cString: strerror(errno))))")) }
        defer { close(fd) }
        var have = Int(lseek(fd, 0, SEEK_END))
        if have > expectedSize {
            _ = ftruncate(fd, 0)
            have = Int(lseek(fd, 0, SEEK_SET))
        }
        if have == expectedSize { return }

        let sink = DownloadSink(fd: fd, handle: handle, limit: expectedSize, progress: progress)
        curl_easy_reset(handle)
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for h in ["Authorization: Bearer \(token)", "Range: bytes=\(have)-"] { headers = curl_slist_append(headers, h) }
        defer { curl_slist_free_all(headers) }
        var rc = CURLE_OK
        func set(_ r: CURLcode) { if rc == CURLE_OK { rc = r } }
        let url = base + "/" + path
        set(kiosk_curl_setopt_string(handle, CURLOPT_URL, url))
        set(kiosk_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)))
        set(kiosk_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5_000))
        // A model is tens of megabytes: no total limit, but a stalled transfer (under 1 kB/s for 30 s) ends.
        set(kiosk_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1_000))
        set(kiosk_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 30))
        set(kiosk_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(kiosk_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(kiosk_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile { set(kiosk_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        set(kiosk_curl_setopt_write(handle, Self.write, Unmanaged.passUnretained(sink).toOpaque()))
        if rc != CURLE_OK { throw .badResponse("cannot set up the download: \(String(cString: curl_easy_strerror(rc)))") }
        rc = withExtendedLifetime(sink) { curl_easy_perform(handle) }
        if let failure = sink.failure { throw failure }
        guard rc == CURLE_OK else { throw Self.error(rc, url: url) }
        var status = 0
        _ = kiosk_curl_response_code(handle, &status)
        guard status == 200 || status == 206 else { throw Self.serverError(status, sink.errorBody) }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size == expectedSize else {
            throw .interrupted("\(url): the download ended after \(size) of \(expectedSize) bytes")
        }
    }

    private final class DownloadSink {
        let fd: Int32
        let handle: UnsafeMutableRawPointer
        let limit: Int
        let progress: () -> Void
        var started = false
        var toFile = false
        var errorBody: [UInt8] = []
        var failure: SyncError?

        init(fd: Int32, handle: UnsafeMutableRawPointer, limit: Int, progress: @escaping () -> Void) {
            self.fd = fd
            self.handle = handle
            self.limit = limit
            self.progress = progress
        }

        /// Decided once the status is known: 206 appends, 200 (the server ignored the range) starts over, any
        /// other status is an error whose body is kept for the message.
        func begin() {
            started = true
            var status = 0
            _ = kiosk_curl_response_code(handle, &status)
            toFile = status == 200 || status == 206
            if status == 200 {
                _ = ftruncate(fd, 0)
                _ = lseek(fd, 0, SEEK_SET)
            }
        }

        func take(_ bytes: UnsafeRawBufferPointer) -> Bool {
            if !started { begin() }
            guard toFile else {
                if errorBody.count < 4096 { errorBody.append(contentsOf: bytes.prefix(4096 - errorBody.count)) }
                return true
            }
            let position = Int(lseek(fd, 0, SEEK_CUR))
            guard position + bytes.count <= limit else {
                failure = .badResponse("the server sent more than the manifest's \(limit) bytes")
                return false
            }
            var written = 0
            while written < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = .storage(StoreError(path: "model download", reason: "cannot write (\(String(cString: strerror(errno))))"))
                    return false
                }
                written += n
            }
            progress()
            return true
        }
    }

    private static let write: kiosk_curl_write_callback = { data, size, count, context in
        let sink = Unmanaged<DownloadSink>.fromOpaque(context!).takeUnretainedValue()
        let n = size * count
        guard let data else { return n }
        return sink.take(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
    }
}
