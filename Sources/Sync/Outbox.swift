#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore
import Logging
import SQLite
import SyncWire

/// Pushes pending records to the server in batches until none is left or something fails. At-least-once: a
/// record is marked synced only after the server's answer names it (accepted or duplicate); the server's dedupe
/// by record id makes the effect exactly-once. A record the server refuses by name (a 400 naming it) is set aside
/// in the store, kept, and the push goes on without it, so one bad record never holds back the ones after it.
public final class Outbox {
    public struct Report: Sendable, Equatable {
        public var sent = 0
        public var accepted = 0
        public var duplicates = 0
        public var batches = 0
        /// Records the server refused in this push, now set aside.
        public var refused = 0
        /// Field photos among `sent`.
        public var photos = 0
    }

    private let store: RecordStore
    private let transport: any RecordTransport
    private let kiosk: String
    private let logger: Logger
    private let now: () -> Int64
    public var batchSize: Int

    public init(store: RecordStore, transport: any RecordTransport, kiosk: String, batchSize: Int = RecordBatch.maximumRecords,
                logger: Logger = Logger(label: "kiosk.sync"), now: @escaping () -> Int64) {
        self.store = store
        self.transport = transport
        self.kiosk = kiosk
        self.batchSize = max(1, min(batchSize, RecordBatch.maximumRecords))
        self.logger = logger
        self.now = now
    }

    /// Sends everything pending; `progress` is called after each batch. The outcome (success or the error) is also
    /// kept in the store for `kiosk sync --status`.
    @discardableResult
    public func pushAll(progress: (Report, Int) -> Void = { _, _ in }) throws(SyncError) -> Report {
        var report = Report()
        do throws(SyncError) {
            try record(.lastAttempt, WallClock.iso8601(milliseconds: now()))
            while true {
                let batch = try pending()
                let quiz = try storage { () throws(StoreError) in try store.pendingQuiz(limit: batchSize) }
                let photos = try storage { () throws(StoreError) in
                    try store.pendingPhotos(limit: max(1, min(batchSize, RecordBatch.maximumPhotos)))
                }
                if batch.isEmpty && quiz.isEmpty && photos.isEmpty { break }
                let answer: BatchResponse
                do throws(SyncError) {
                    answer = try transport.send(RecordBatch(kiosk: kiosk, records: batch, quiz: quiz.isEmpty ? nil : quiz,
                                                            photos: photos.isEmpty ? nil : photos))
                } catch {
                    if case .server(413, _) = error, batchSize > 1 {
                        batchSize = max(1, batchSize / 2)  // a body too large for the server: smaller batches
                        logger.info("batch too large for the server; trying \(batchSize) records")
                        continue
                    }
                    if case .recordRefused(let id, let message) = error {
                        try setAside(id, message)
                        report.refused += 1
                        continue
                    }
                    throw error
                }
                let held = answer.results.map(\.id)
                try storage { () throws(StoreError) in try store.markSynced(held, atMilliseconds: now()) }
                report.batches += 1
                report.sent += batch.count + quiz.count + photos.count
                report.photos += photos.count
                report.accepted += answer.accepted
                report.duplicates += answer.duplicates
                let remaining = (try? store.pendingCount()) ?? 0
                progress(report, remaining)
                if held.count < batch.count + quiz.count + photos.count {
                    // An older server ignores quiz answers or photos: they stay pending, kept, until it is updated.
                    throw SyncError.badResponse("the server confirmed \(held.count) of \(batch.count) records, \(quiz.count) quiz answers and \(photos.count) field photos")
                }
            }
            try record(.lastSuccess, WallClock.iso8601(milliseconds: now()))
            try? store.setState(.lastError, "")
            // Synced records are kept for a while (status, late exports), then go; pending ones never do.
            if let purged = try? store.purgeSynced(nowMilliseconds: now()), purged > 0 {
                logger.info("old synced records purged", metadata: ["count": "\(purged)"])
            }
            return report
        } catch {
            try? store.setState(.lastError, "\(WallClock.iso8601(milliseconds: now())) \(error.description)")
            throw error
        }
    }

    private func setAside(_ id: UUID, _ message: String) throws(SyncError) {
        let changed = try storage { () throws(StoreError) in
            try store.markRefused(id, reason: "\(WallClock.iso8601(milliseconds: now())) \(message)", atMilliseconds: now())
        }
        // The transport only names records of the batch, all pending; anything else would resend the same batch forever.
        guard changed else { throw .badResponse("it refused record \(id.uuidString.lowercased()), which is not pending") }
        logger.warning("the server refused a record; it is set aside and kept",
                       metadata: ["record": "\(id.uuidString.lowercased())", "reason": "\(message)"])
    }

    private func pending() throws(SyncError) -> [ScanRecord] {
        try storage { () throws(StoreError) in try store.pending(limit: batchSize) }
    }

    private func record(_ key: SyncStateKey, _ value: String) throws(SyncError) {
        try storage { () throws(StoreError) in try store.setState(key, value) }
    }

    /// A store call, its failure kept whole (SQLite's code included) as the sync's error.
    @discardableResult
    private func storage<R>(_ body: () throws(StoreError) -> R) throws(SyncError) -> R {
        do {
            return try body()
        } catch {
            throw .storage(error)
        }
    }
}

@available(*, unavailable)
extension Outbox: Sendable {}
