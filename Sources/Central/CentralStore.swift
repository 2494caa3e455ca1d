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
