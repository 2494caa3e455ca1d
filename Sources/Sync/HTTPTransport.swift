internal import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore
import SQLite
import SyncWire

/// Why a push did not (fully) go through. None of these loses a record: pending records stay pending.
public enum SyncError: Error, Equatable, CustomStringConvertible {
    case notEnrolled
    /// No connection (network down, server down, DNS).
    case unreachable(String)
    case timeout(String)
    /// The connection broke mid-request or mid-response.
    case interrupted(String)
    case tls(String)
    /// The server answered with an error status.
    case server(status: Int, message: String)
    /// The server refused the batch because of this one record (a 400 naming it); the others are fine.
    case recordRefused(UUID, message: String)
    /// The server's answer could not be understood.
    case badResponse(String)
    /// The kiosk's own record store failed, with SQLite's code (`StoreError.isBusy`, `.isFull`).
    case storage(StoreError)
    /// A batch that cannot be encoded (a record with a value JSON cannot hold).
    case unencodable(String)

    public var description: String {
        switch self {
        case .notEnrolled: return "not enrolled (kiosk enroll --server URL --token T)"
        case .unreachable(let m): return "server unreachable: \(m)"
        case .timeout(let m): return "timed out: \(m)"
        case .interrupted(let m): return "connection broken: \(m)"
        case .tls(let m): return "TLS: \(m)"
        case .server(let status, let m): return "server answered \(status): \(m)"
        case .recordRefused(let id, let m): return "server refused record \(id.uuidString.lowercased()): \(m)"
        case .badResponse(let m): return "bad answer from the server: \(m)"
        case .storage(let e): return e.description
        case .unencodable(let m): return "cannot encode the batch: \(m)"
        }
    }

    /// Worth trying again later by itself (as opposed to needing a technician: bad token, bad record).
    public var isTransient: Bool {
        switch self {
        case .unreachable, .timeout, .interrupted: return true
        case .server(let status, _): return status >= 500 || status == 429 || status == 408
        default: return false
        }
    }
}

/// Sends one batch to the server and returns its answer.
public protocol RecordTransport {
    func send(_ batch: RecordBatch) throws(SyncError) -> BatchResponse
}

/// HTTP(S) through libcurl: certificate verification on (a custom CA allowed), connect and total timeouts, the
/// proxy from the environment (http_proxy / https_proxy / no_proxy, libcurl's own handling), gzip both ways.
public final class CurlTransport: RecordTransport {
    public struct Options: Sendable {
        public var connectTimeoutMilliseconds = 5_000
        public var totalTimeoutMilliseconds = 30_000
        public var compress = true

        public init() {}
    }

    let handle: UnsafeMutableRawPointer
    private let url: String
    private let healthURL: String
    private let enrollmentURL: String
    let base: String
    let token: String
    let caFile: String?
    private let options: Options

    public init(enrollment: Enrollment, options: Options = Options()) {
        Self.globalInit
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        let base = enrollment.server.hasSuffix("/") ? String(enrollment.server.dropLast()) : enrollment.server
        self.base = base
        url = base + "/api/v1/records"
        healthURL = base + "/api/v1/health"
        enrollmentURL = base + "/api/v1/enrollment"
        token = enrollment.token
        caFile = enrollment.caFile
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    /// curl_global_init is not thread-safe; run it once, before any handle exists.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private final class ResponseBuffer {
        var bytes: [UInt8] = []
        let limit = 4 << 20
    }

    public func send(_ batch: RecordBatch) throws(SyncError) -> BatchResponse {
        let json: [UInt8]
        do {
            json = [UInt8](try WireJSON.encoder().encode(batch))
        } catch {
            throw .unencodable("\(error)")
        }
        let body = options.compress ? Gzip.compress(json) : json
        let (status, response) = try perform(url, body: body, gzip: options.compress)
        guard (200..<300).contains(status) else {
            let error = try? WireJSON.decoder().decode(ErrorResponse.self, from: Data(response))
            let message = error?.error ?? String(decoding: response.prefix(200), as: UTF8.self)
            if status == 400, let id = error?.record,
               batch.records.contains(where: { $0.id == id }) || (batch.quiz ?? []).contains(where: { $0.id == id }) {
                throw .recordRefused(id, message: message)
            }
            throw .server(status: status, message: message)
        }
        let answer: BatchResponse
        do {
            answer = try WireJSON.decoder().decode(BatchResponse.self, from: Data(response))
        } catch {
            throw .badResponse("\(error)")
        }
        let sent = Set(batch.records.map(\.id) + (batch.quiz ?? []).map(\.id) + (batch.photos ?? []).map(\.id))
        guard answer.results.allSatisfy({ sent.contains($0.id) }) else {
            throw .badResponse("it answered for records that were not sent")
        }
        return answer
    }

    /// The kiosk the server says this token belongs to and the city's model-signing key (`kiosk enroll` checks
    /// the token with it).
    public func enrollment() throws(SyncError) -> EnrollmentAnswer {
        let (status, response) = try perform(enrollmentURL, body: nil, gzip: false)
        guard status == 200 else { throw Self.serverError(status, response) }
        do {
            return try WireJSON.decoder().decode(EnrollmentAnswer.self, from: Data(response))
        } catch {
            throw .badResponse("\(error)")
        }
    }

    /// The model the server assigns this kiosk, nil when it assigns none.
    public func assignedModel() throws(SyncError) -> ModelAssignment? {
        let (status, response) = try perform(base + "/api/v1/model", body: nil, gzip: false)
        if status == 204 { return nil }
        guard status == 200 else { throw Self.serverError(status, response) }
        do {
            return try WireJSON.decoder().decode(ModelAssignment.self, from: Data(response))
        } catch {
            throw .badResponse("\(error)")
        }
    }

    /// A POST of a small JSON body (not compressed), with the token.
    func post(_ url: String, body: [UInt8]) throws(SyncError) -> (Int, [UInt8]) {
        try perform(url, body: body, gzip: false)
    }

    static func serverError(_ status: Int, _ response: [UInt8]) -> SyncError {
        let message = (try? WireJSON.decoder().decode(ErrorResponse.self, from: Data(response)))?.error
            ?? String(decoding: response.prefix(200), as: UTF8.self)
        return .server(status: status, message: message)
    }

    /// Whether the server answers its health check (2 s at most): used to retry at once when it is back.
    public func isHealthy() -> Bool {
        curl_easy_reset(handle)
        let response = ResponseBuffer()
        let context = Unmanaged.passUnretained(response).toOpaque()
        _ = kiosk_curl_setopt_string(handle, CURLOPT_URL, healthURL)
        _ = kiosk_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 2_000)
        _ = kiosk_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 2_000)
        _ = kiosk_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        if let caFile { _ = kiosk_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        _ = kiosk_curl_setopt_write(handle, Self.collect, context)
        let rc = withExtendedLifetime(response) { curl_easy_perform(handle) }
        var status = 0
        _ = kiosk_curl_response_code(handle, &status)
        return rc == CURLE_OK && status == 200
    }

    private static let collect: kiosk_curl_write_callback = { data, size, count, context in
        let buffer = Unmanaged<ResponseBuffer>.fromOpaque(context!).takeUnretainedValue()
        let n = size * count
        if buffer.bytes.count + n > buffer.limit { return 0 }  // makes libcurl fail with CURLE_WRITE_ERROR
        data.map { buffer.bytes.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: n)) }
        return n
    }

    /// A POST of `body`, or a GET when it is nil, with the token; the status and the answer's bytes.
    private func perform(_ url: String, body: [UInt8]?, gzip: Bool) throws(SyncError) -> (Int, [UInt8]) {
        curl_easy_reset(handle)
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        for h in ["Content-Type: application/json", "Authorization: Bearer \(token)", "Expect:"]
            + (gzip ? ["Content-Encoding: gzip"] : [])
        {
            headers = curl_slist_append(headers, h)
        }
        defer { curl_slist_free_all(headers) }
        let response = ResponseBuffer()
        let context = Unmanaged.passUnretained(response).toOpaque()
        var rc = CURLE_OK
        func set(_ r: CURLcode) { if rc == CURLE_OK { rc = r } }
        set(kiosk_curl_setopt_string(handle, CURLOPT_URL, url))
        if let body {
            set(kiosk_curl_setopt_long(handle, CURLOPT_POST, 1))
            set(kiosk_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count))
            set(body.withUnsafeBytes { kiosk_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) })
        }
        set(kiosk_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)))
        set(kiosk_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeoutMilliseconds))
        set(kiosk_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, options.totalTimeoutMilliseconds))
        set(kiosk_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(kiosk_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set(kiosk_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        set(kiosk_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))  // every encoding libcurl can decode
        if let caFile { set(kiosk_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        set(kiosk_curl_setopt_write(handle, Self.collect, context))
        if rc != CURLE_OK { throw .badResponse("cannot set up the request: \(String(cString: curl_easy_strerror(rc)))") }
        rc = withExtendedLifetime(response) { curl_easy_perform(handle) }
        guard rc == CURLE_OK else { throw Self.error(rc, url: url) }
        var status = 0
        _ = kiosk_curl_response_code(handle, &status)
        return (status, response.bytes)
    }

    static func error(_ rc: CURLcode, url: String) -> SyncError {
        let message = "\(url): \(String(cString: curl_easy_strerror(rc)))"
        switch rc {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .unreachable(message)
        case CURLE_OPERATION_TIMEDOUT: return .timeout(message)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .tls(message)
        default: return .interrupted(message)
        }
    }
}

@available(*, unavailable)
extension CurlTransport: Sendable {}
