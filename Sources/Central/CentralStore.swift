import Foundation
import KioskCore
import SyncWire

/// Where the central server keeps devices and records. SQLite by default; PostgreSQL is the fleet option.
public protocol CentralStore: Sendable {
    /// Keeps the store's connections alive until the task is cancelled (PostgreSQL's pool); SQLite needs nothing.
    func run() async
    /// Brings the schema up to date; call once `run` is going.
    func prepare() async throws(CentralError)
    /// Registers a kiosk with the SHA-256 (hex) of its token. Throws `.conflict` when the name is taken.
    func addDevice(name: String, tokenHash: String, atMilliseconds: Int64) async throws(CentralError)
    /// The kiosk a token hash belongs to.
    func kiosk(forTokenHash hash: String) async throws(CentralError) -> String?
    /// The kiosk's token hash (its bundle signing key, hex), nil when unknown.
    func tokenHash(forKiosk name: String) async throws(CentralError) -> String?
    /// Stores the records that are new, all in one transaction; answers per record, in order.
    func ingest(_ records: [ScanRecord], receivedAtMilliseconds: Int64) async throws(CentralError) -> [BatchResponse.Result]
    func count(kiosk: String?) async throws(CentralError) -> Int

    /// Adds an operator (dashboard and stats API); with `replace`, sets a new password for an existing one.
    func setOperator(_ credential: OperatorCredential, replace: Bool) async throws(CentralError)
    func operatorCredential(name: String) async throws(CentralError) -> OperatorCredential?
    /// The dashboard's figures for a range of local days, from the rollup tables; `today` is the server's day.
    func statistics(_ query: StatsQuery, today: String) async throws(CentralError) -> FleetStatistics
    /// Records captured in the query's days, in (capture time, id) order, `limit` at a time after `cursor`.
    func exportRecords(_ query: StatsQuery, after cursor: ExportRow?, limit: Int) async throws(CentralError) -> [ExportRow]
}

/// One record as the CSV export writes it (no thumbnail).
public struct ExportRow: Sendable, Equatable {
    public var id: String
    public var kiosk: String
    public var sequence: Int64
    public var capturedAtMilliseconds: Int64
    public var receivedAtMilliseconds: Int64
    public var label: String
    public var category: String
    public var confidence: Double
    public var modelVersion: String
    public var language: String
    public var correction: String?

    public init(id: String, kiosk: String, sequence: Int64, capturedAtMilliseconds: Int64, receivedAtMilliseconds: Int64,
                label: String, category: String, confidence: Double, modelVersion: String, language: String, correction: String?) {
        self.id = id
        self.kiosk = kiosk
        self.sequence = sequence
        self.capturedAtMilliseconds = capturedAtMilliseconds
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.label = label
        self.category = category
        self.confidence = confidence
        self.modelVersion = modelVersion
        self.language = language
        self.correction = correction
    }

    public static let csvHeader = "id,kiosk,sequence,captured_at,received_at,label,category,confidence,model_version,language,correction"

    public var csvLine: String {
        func field(_ s: String) -> String {
            // Quoted when needed (RFC 4180), and a leading = + - @ defused so a spreadsheet never runs it.
            var t = s
            if let f = t.first, "=+-@".contains(f) { t = "'" + t }
            return t.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : t
        }
        return [id, field(kiosk), String(sequence), WallClock.iso8601(milliseconds: capturedAtMilliseconds),
                WallClock.iso8601(milliseconds: receivedAtMilliseconds), field(label), field(category),
                String(format: "%.4f", confidence), field(modelVersion), field(language), field(correction ?? "")]
            .joined(separator: ",")
    }
}

public enum CentralError: Error, Equatable, CustomStringConvertible {
    case storage(String)
    case conflict(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .storage(let m), .conflict(let m), .invalid(let m): return m
        }
    }
}

extension CentralStore {
    /// Runs `body` with the store running and prepared, then stops it: for one-shot admin commands.
    public func whileRunning<R: Sendable>(_ body: @Sendable (any CentralStore) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                await self.run()
                return nil
            }
            defer { group.cancelAll() }
            try await prepare()
            return try await body(self)
        }
    }
}
