import Central
import HTTPTypes

/// The one mapping from a store failure to an HTTP answer: an outage says "retry" (503 with Retry-After), a full
/// disk 507, a damaged database or a bug 500, so neither an operator nor a kiosk mistakes one for another. The
/// kiosk retries any 5xx, 408 and 429, so an ingest failure must never become a 4xx.
struct StorageStatus {
    var status: HTTPResponse.Status
    var retryAfterSeconds: Int?

    init(_ error: CentralError, ingest: Bool = false) {
        switch error {
        case .busy: (status, retryAfterSeconds) = (.serviceUnavailable, 1)
        case .unavailable: (status, retryAfterSeconds) = (.serviceUnavailable, 5)
        case .full: (status, retryAfterSeconds) = (.init(code: 507, reasonPhrase: "Insufficient Storage"), nil)
        case .corrupt, .failed, .newerSchema: (status, retryAfterSeconds) = (.internalServerError, nil)
        // A record that conflicts inside an idempotent ingest is a server fault the kiosk may retry.
        case .conflict: (status, retryAfterSeconds) = (ingest ? .internalServerError : .conflict, nil)
        case .nameTaken: (status, retryAfterSeconds) = (.conflict, nil)
        case .notFound: (status, retryAfterSeconds) = (.notFound, nil)
        case .invalid: (status, retryAfterSeconds) = (ingest ? .internalServerError : .badRequest, nil)
        }
    }

    /// Whether the operator should hear of it in the log (everything but a plain outage or a domain answer).
    static func isFault(_ error: CentralError) -> Bool {
        switch error {
        case .full, .corrupt, .failed, .newerSchema, .conflict: true
        case .busy, .unavailable, .nameTaken, .notFound, .invalid: false
        }
    }
}
