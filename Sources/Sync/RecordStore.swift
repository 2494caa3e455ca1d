#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KioskCore
import SQLite

/// The kiosk's scan records in SQLite (`records.sqlite` in the data folder): WAL, `synchronous=FULL` (a record
/// `append` returned is on disk and survives a power cut), versioned migrations. Pending records are never
/// deleted; synced ones are kept for `retention` and then purged.
///
/// One instance per thread; several processes may use the same file at once (the app, `kiosk sync`, `kiosk export`).
public final class RecordStore {
    public static let fileName = "records.sqlite"
    /// How long synced records stay on the kiosk (for `kiosk status` and a late export).
    public static let retention: Duration = .seconds(30 * 24 * 3600)

    public let path: String
    private let db: SQLiteConnection

    /// Schema versions, in order; `PRAGMA user_version` counts those applied.
    static let migrations: [String] = [
        """
        CREATE TABLE records (
            id TEXT PRIMARY KEY NOT NULL,
            sequence INTEGER NOT NULL UNIQUE,
            kiosk TEXT NOT NULL,
            captured_at_ms INTEGER NOT NULL,
            label TEXT NOT NULL,
            category TEXT NOT NULL,
            confidence REAL NOT NULL,
            top TEXT NOT NULL,
            model_version TEXT NOT NULL,
            language TEXT NOT NULL,
            correction TEXT,
            thumbnail BLOB,
            synced_at_ms INTEGER,
            exported_at_ms INTEGER
        );
        CREATE INDEX records_pending ON records(sequence) WHERE synced_at_ms IS NULL;
        CREATE INDEX records_synced ON records(synced_at_ms) WHERE synced_at_ms IS NOT NULL;
        CREATE TABLE sync_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        """,
        // Whether the kiosk showed its "not sure" screen (NULL: not known).
        "ALTER TABLE records ADD COLUMN asked INTEGER;",
        // Records the server refused (a 400 naming the record): set aside, kept, not sent again until a
        // technician asks (`kiosk sync --retry-refused`).
        """
        ALTER TABLE records ADD COLUMN refused_at_ms INTEGER;
        ALTER TABLE records ADD COLUMN refusal TEXT;
        """,
        // Quiz answers given at the kiosk: synced, refused and purged like records.
        """
        CREATE TABLE quiz_answers (
            id TEXT PRIMARY KEY NOT NULL,
            kiosk TEXT NOT NULL,
            answered_at_ms INTEGER NOT NULL,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            correct INTEGER NOT NULL,
            language TEXT NOT NULL,
            synced_at_ms INTEGER,
            refused_at_ms INTEGER,
            refusal TEXT
        );
        CREATE INDEX quiz_answers_pending ON quiz_answers(answered_at_ms) WHERE synced_at_ms IS NULL;
        """,
        // Field photos (opt-in): pending until the server has them, then deleted (they are large and private).
        """
        CREATE TABLE field_photos (
            id TEXT PRIMARY KEY NOT NULL,
            kiosk TEXT NOT NULL,
            taken_at_ms INTEGER NOT NULL,
            label TEXT,
            source TEXT NOT NULL,
            record_id TEXT,
            model_label TEXT,
            model_version TEXT,
            jpeg BLOB NOT NULL,
            refused_at_ms INTEGER,
            refusal TEXT
        );
        """,
    ]

    /// The most field photos kept waiting for the server (about 25 KB each: 50 MB); a kiosk offline for long
    /// keeps the first ones and skips new ones until the server has some.
    public static let fieldPhotoLimit = 2000

    /// Opens (creating when needed) the store in `dataDirectory`.
    public init(dataDirectory: String) throws(StoreError) {
        try Self.makeDirectory(dataDirectory)
        path = dataDirectory.hasSuffix("/") ? dataDirectory + Self.fileName : dataDirectory + "/" + Self.fileName
        db = try SQLiteConnection.durable(path: path)
        try db.migrate(Self.migrations, program: "kiosk")
    }

    private static func makeDirectory(_ path: String) throws(StoreError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o750) != 0 && errno != EEXIST {
                throw StoreError(path: path, reason: "cannot create the data folder (\(String(cString: strerror(errno))))")
            }
        }
    }

    // MARK: - Writing

    /// Stores a new record, giving it the next sequence number; durable when this returns.
    @discardableResult
    public func append(_ record: ScanRecord) throws(StoreError) -> ScanRecord {
        var stored = record
        try db.transaction { () throws(StoreError) in
            var next: Int64 = 1
            try db.prepare("SELECT COALESCE(MAX(sequence), 0) + 1 FROM records").query { row in next = row.integer(0) }
            stored.sequence = next
            try db.prepare("""
                INSERT INTO records (id, sequence, kiosk, captured_at_ms, label, category, confidence, top,
                    model_version, language, correction, thumbnail, asked)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).run([
                    .text(stored.id.uuidString.lowercased()), .integer(next), .text(stored.kiosk),
                    .integer(stored.capturedAtMilliseconds), .text(stored.label), .text(stored.category.rawValue),
                    .real(stored.confidence), .text(try encodeTop(stored)), .text(stored.modelVersion),
                    .text(stored.language.rawValue), stored.correction.map { .text($0) } ?? .null,
                    stored.thumbnail.map { .blob([UInt8]($0)) } ?? .null,
                    stored.asked.map { .integer($0 ? 1 : 0) } ?? .null,
                ])
        }
        return stored
    }

    /// Stores a quiz answer; durable when this returns. Storing the same id twice keeps the first.
    public func append(_ answer: QuizAnswer) throws(StoreError) {
        try db.prepare("""
            INSERT INTO quiz_answers (id, kiosk, answered_at_ms, question, answer, correct, language)
            VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
            """).run([
                .text(answer.id.uuidString.lowercased()), .text(answer.kiosk), .integer(answer.answeredAtMilliseconds),
                .text(answer.question), .text(answer.answer.rawValue), .integer(answer.right ? 1 : 0), .text(answer.language.rawValue),
            ])
    }

    /// Keeps a field photo until the server has it; false (nothing stored) when `limit` photos already wait.
    @discardableResult
    public func append(_ photo: FieldPhoto, limit: Int = RecordStore.fieldPhotoLimit) throws(StoreError) -> Bool {
        try db.transaction { () throws(StoreError) -> Bool in
            var waiting: Int64 = 0
            try db.prepare("SELECT COUNT(*) FROM field_photos").query { row in waiting = row.integer(0) }
            guard waiting < limit else { return false }
            try db.prepare("""
                INSERT INTO field_photos (id, kiosk, taken_at_ms, label, source, record_id, model_label, model_version, jpeg)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
                """).run([
                    .text(photo.id.uuidString.lowercased()), .text(photo.kiosk), .integer(photo.takenAtMilliseconds),
                    photo.label.map { .text($0) } ?? .null, .text(photo.source.rawValue),
                    photo.record.map { .text($0.uuidString.lowercased()) } ?? .null,
                    photo.modelLabel.map { .text($0) } ?? .null, photo.modelVersion.map { .text($0) } ?? .null,
                    .blob([UInt8](photo.jpeg)),
                ])
            return true
        }
    }

    /// Marks records and quiz answers as held by the server, and deletes the field photos it holds; returns how
    /// many were pending.
    @discardableResult
    public func markSynced(_ ids: [UUID], atMilliseconds now: Int64) throws(StoreError) -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.transaction { () throws(StoreError) -> Int in
            let records = try db.prepare("UPDATE records SET synced_at_ms = ? WHERE id = ? AND synced_at_ms IS NULL")
            let quiz = try db.prepare("UPDATE quiz_answers SET synced_at_ms = ? WHERE id = ? AND synced_at_ms IS NULL")
            let photos = try db.prepare("DELETE FROM field_photos WHERE id = ?")
            var changed = 0
            for id in ids {
                try records.run([.integer(now), .text(id.uuidString.lowercased())])
                changed += db.changes
                if db.changes == 0 {
                    try quiz.run([.integer(now), .text(id.uuidString.lowercased())])
                    changed += db.changes
                }
                if db.changes == 0 {
                    try photos.run([.text(id.uuidString.lowercased())])
                    changed += db.changes
                }
            }
            return changed
        }
    }

    /// Gives pending records made before enrollment (under the host name) the enrolled kiosk name: they were
    /// made in this data folder, so they are this kiosk's. Returns how many changed.
    @discardableResult
    public func adoptPending(kiosk: String) throws(StoreError) -> Int {
        try db.prepare("UPDATE records SET kiosk = ? WHERE synced_at_ms IS NULL AND kiosk <> ?").run([.text(kiosk), .text(kiosk)])
        let records = db.changes
        try db.prepare("UPDATE quiz_answers SET kiosk = ? WHERE synced_at_ms IS NULL AND kiosk <> ?").run([.text(kiosk), .text(kiosk)])
        let quiz = db.changes
        try db.prepare("UPDATE field_photos SET kiosk = ? WHERE kiosk <> ?").run([.text(kiosk), .text(kiosk)])
        return records + quiz + db.changes
    }

    /// Sets a pending record aside because the server refused it, with the server's reason; it stays on the kiosk
    /// but is no longer sent or exported. Returns whether a pending record changed.
    @discardableResult
    public func markRefused(_ id: UUID, reason: String, atMilliseconds now: Int64) throws(StoreError) -> Bool {
        try db.prepare("""
            UPDATE records SET refused_at_ms = ?, refusal = ?
            WHERE id = ? AND synced_at_ms IS NULL AND refused_at_ms IS NULL
            """).run([.integer(now), .text(reason), .text(id.uuidString.lowercased())])
        if db.changes == 1 { return true }
        try db.prepare("""
            UPDATE quiz_answers SET refused_at_ms = ?, refusal = ?
            WHERE id = ? AND synced_at_ms IS NULL AND refused_at_ms IS NULL
            """).run([.integer(now), .text(reason), .text(id.uuidString.lowercased())])
        if db.changes == 1 { return true }
        try db.prepare("UPDATE field_photos SET refused_at_ms = ?, refusal = ? WHERE id = ? AND refused_at_ms IS NULL")
            .run([.integer(now), .text(reason), .text(id.uuidString.lowercased())])
        return db.changes == 1
    }

    /// Makes every refused record pending again (e.g. after the server was updated); returns how many.
    @discardableResult
    public func retryRefused() throws(StoreError) -> Int {
        try db.prepare("UPDATE records SET refused_at_ms = NULL, refusal = NULL WHERE synced_at_ms IS NULL AND refused_at_ms IS NOT NULL")
            .run()
        let records = db.changes
        try db.prepare("UPDATE quiz_answers SET refused_at_ms = NULL, refusal = NULL WHERE synced_at_ms IS NULL AND refused_at_ms IS NOT NULL")
            .run()
        let quiz = db.changes
        try db.prepare("UPDATE field_photos SET refused_at_ms = NULL, refusal = NULL WHERE refused_at_ms IS NOT NULL").run()
        return records + quiz + db.changes
    }

    public func markExported(_ ids: [UUID], atMilliseconds now: Int64) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            let statement = try db.prepare("UPDATE records SET exported_at_ms = ? WHERE id = ?")
            for id in ids { try statement.run([.integer(now), .text(id.uuidString.lowercased())]) }
        }
    }

    /// Deletes synced records older than the retention; pending records are never touched.
    @discardableResult
    public func purgeSynced(nowMilliseconds now: Int64, retention: Duration = RecordStore.retention) throws(StoreError) -> Int {
        let cutoff = now - retention.components.seconds * 1000
        try db.prepare("DELETE FROM records WHERE synced_at_ms IS NOT NULL AND synced_at_ms < ?").run([.integer(cutoff)])
        let records = db.changes
        try db.prepare("DELETE FROM quiz_answers WHERE synced_at_ms IS NOT NULL AND synced_at_ms < ?").run([.integer(cutoff)])
        return records + db.changes
    }

    public func setState(_ key: SyncStateKey, _ value: String) throws(StoreError) {
        try db.prepare("INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .run([.text(key.rawValue), .text(value)])
    }

    // MARK: - Reading

    /// The oldest pending records, in sequence order (refused ones are set aside, not pending).
    public func pending(limit: Int) throws(StoreError) -> [ScanRecord] {
        try records(where: "synced_at_ms IS NULL AND refused_at_ms IS NULL ORDER BY sequence LIMIT ?", [.integer(Int64(limit))])
    }

    /// The oldest pending quiz answers (refused ones are set aside).
    public func pendingQuiz(limit: Int) throws(StoreError) -> [QuizAnswer] {
        try quizAnswers(where: "synced_at_ms IS NULL AND refused_at_ms IS NULL ORDER BY answered_at_ms, id LIMIT ?", [.integer(Int64(limit))])
    }

    /// Every quiz answer held, oldest first.
    public func allQuiz() throws(StoreError) -> [QuizAnswer] {
        try quizAnswers(where: "1 ORDER BY answered_at_ms, id", [])
    }

    private func quizAnswers(where clause: String, _ values: [SQLiteStatement.Value]) throws(StoreError) -> [QuizAnswer] {
        var result: [QuizAnswer] = []
        try db.prepare("SELECT id, kiosk, answered_at_ms, question, answer, correct, language FROM quiz_answers WHERE \(clause)")
            .query(values) { (row) throws(StoreError) in
                guard let id = UUID(uuidString: row.text(0)), let answer = WasteCategory(rawValue: row.text(4)),
                    let language = Language(rawValue: row.text(6))
                else { throw StoreError(path: path, reason: "quiz answer \(row.text(0)) is damaged") }
                result.append(QuizAnswer(id: id, kiosk: row.text(1), answeredAtMilliseconds: row.integer(2), question: row.text(3),
                                         answer: answer, right: row.integer(5) != 0, language: language))
            }
        return result
    }

    /// How many records, quiz answers and field photos are pending (cheaper than `summary`, for a push's progress).
    public func pendingCount() throws(StoreError) -> Int {
        var count = 0
        try db.prepare("""
            SELECT (SELECT COUNT(*) FROM records WHERE synced_at_ms IS NULL AND refused_at_ms IS NULL)
                 + (SELECT COUNT(*) FROM quiz_answers WHERE synced_at_ms IS NULL AND refused_at_ms IS NULL)
                 + (SELECT COUNT(*) FROM field_photos WHERE refused_at_ms IS NULL)
            """).query { row in count = Int(row.integer(0)) }
        return count
    }

    /// The oldest pending field photos (refused ones are set aside).
    public func pendingPhotos(limit: Int) throws(StoreError) -> [FieldPhoto] {
        try fieldPhotos(where: "refused_at_ms IS NULL ORDER BY taken_at_ms, id LIMIT ?", [.integer(Int64(limit))])
    }

    /// Every field photo waiting for the server, oldest first (refused ones included).
    public func allPhotos() throws(StoreError) -> [FieldPhoto] {
        try fieldPhotos(where: "1 ORDER BY taken_at_ms, id", [])
    }

    /// Field photos waiting for the server, and how many of them it refused.
    public func photoCounts() throws(StoreError) -> (waiting: Int, refused: Int) {
        var counts = (waiting: 0, refused: 0)
        try db.prepare("SELECT COUNT(*), COUNT(refused_at_ms) FROM field_photos").query { row in
            counts = (Int(row.integer(0)), Int(row.integer(1)))
        }
        return counts
    }

    private func fieldPhotos(where clause: String, _ values: [SQLiteStatement.Value]) throws(StoreError) -> [FieldPhoto] {
        var result: [FieldPhoto] = []
        try db.prepare("""
            SELECT id, kiosk, taken_at_ms, label, source, record_id, model_label, model_version, jpeg FROM field_photos
            WHERE \(clause)
            """).query(values) { (row) throws(StoreError) in
                guard let id = UUID(uuidString: row.text(0)), let source = FieldPhoto.Source(rawValue: row.text(4)),
                    let jpeg = row.blob(8)
                else { throw StoreError(path: path, reason: "field photo \(row.text(0)) is damaged") }
                result.append(FieldPhoto(
                    id: id, kiosk: row.text(1), takenAtMilliseconds: row.integer(2), label: row.isNull(3) ? nil : row.text(3),
                    source: source, record: row.isNull(5) ? nil : UUID(uuidString: row.text(5)),
                    modelLabel: row.isNull(6) ? nil : row.text(6), modelVersion: row.isNull(7) ? nil : row.text(7),
                    jpeg: Data(jpeg)))
            }
        return result
    }

    /// The newest record, if any.
    public func latest() throws(StoreError) -> ScanRecord? {
        try records(where: "1 ORDER BY sequence DESC LIMIT 1", []).first
    }

    public func all() throws(StoreError) -> [ScanRecord] {
        try records(where: "1 ORDER BY sequence", [])
    }

    public func state(_ key: SyncStateKey) throws(StoreError) -> String? {
        var value: String?
        try db.prepare("SELECT value FROM sync_state WHERE key = ?").query([.text(key.rawValue)]) { row in value = row.text(0) }
        return value
    }

    public func summary() throws(StoreError) -> StoreSummary {
        var s = StoreSummary()
        try db.prepare("""
            WITH unsynced AS (SELECT *, refused_at_ms IS NULL AS sendable FROM records WHERE synced_at_ms IS NULL)
            SELECT (SELECT COUNT(*) FROM records), COALESCE(SUM(sendable), 0),
                   MIN(CASE WHEN sendable THEN captured_at_ms END), MIN(CASE WHEN sendable THEN sequence END),
                   COALESCE(SUM(sendable AND exported_at_ms IS NOT NULL), 0), COALESCE(SUM(NOT sendable), 0),
                   (SELECT refusal FROM unsynced WHERE NOT sendable ORDER BY refused_at_ms DESC, sequence DESC LIMIT 1)
            FROM unsynced
            """).query { row in
            s.total = Int(row.integer(0))
            s.pending = Int(row.integer(1))
            s.oldestPendingCapturedAtMilliseconds = row.isNull(2) ? nil : row.integer(2)
            s.oldestPendingSequence = row.isNull(3) ? nil : row.integer(3)
            s.pendingExported = Int(row.integer(4))
            s.refused = Int(row.integer(5))
            s.latestRefusal = row.isNull(6) ? nil : row.text(6)
        }
        s.lastSuccess = try state(.lastSuccess)
        s.lastError = try state(.lastError).flatMap { $0.isEmpty ? nil : $0 }
        s.lastAttempt = try state(.lastAttempt)
        return s
    }

    /// Records per category captured at or after `since` (e.g. local midnight), for the Ready screen.
    public func counts(sinceMilliseconds since: Int64) throws(StoreError) -> [WasteCategory: Int] {
        var counts: [WasteCategory: Int] = [:]
        try db.prepare("SELECT category, COUNT(*) FROM records WHERE captured_at_ms >= ? GROUP BY category")
            .query([.integer(since)]) { row in
                if let c = WasteCategory(rawValue: row.text(0)) { counts[c] = Int(row.integer(1)) }
            }
        return counts
    }

    private func records(where clause: String, _ values: [SQLiteStatement.Value]) throws(StoreError) -> [ScanRecord] {
        var result: [ScanRecord] = []
        try db.prepare("""
            SELECT id, sequence, kiosk, captured_at_ms, label, category, confidence, top, model_version, language,
                   correction, thumbnail, asked FROM records WHERE \(clause)
            """).query(values) { (row) throws(StoreError) in
            guard let id = UUID(uuidString: row.text(0)), let category = WasteCategory(rawValue: row.text(5)),
                let language = Language(rawValue: row.text(9))
            else { throw StoreError(path: path, reason: "record \(row.text(0)) is damaged") }
            result.append(ScanRecord(
                id: id, kiosk: row.text(2), capturedAtMilliseconds: row.integer(3), sequence: row.integer(1),
                label: row.text(4), category: category, confidence: row.real(6),
                top: try decodeTop(row.text(7), record: row.text(0)),
                modelVersion: row.text(8), language: language, correction: row.isNull(10) ? nil : row.text(10),
                thumbnail: row.blob(11).map { Data($0) }, asked: row.isNull(12) ? nil : row.integer(12) != 0))
        }
        return result
    }

    /// The guesses as the `top` column's JSON; a guess JSON cannot hold (a probability that is not a number) is
    /// an error, not an empty list.
    private func encodeTop(_ record: ScanRecord) throws(StoreError) -> String {
        do {
            return String(decoding: try JSONEncoder().encode(record.top), as: UTF8.self)
        } catch {
            throw StoreError(path: path, reason: "record \(record.id.uuidString.lowercased()): its top guesses cannot be stored: \(error)")
        }
    }

    private func decodeTop(_ text: String, record: String) throws(StoreError) -> [ScanRecord.Guess] {
        do {
            return try JSONDecoder().decode([ScanRecord.Guess].self, from: Data(text.utf8))
        } catch {
            throw StoreError(path: path, reason: "record \(record) is damaged: its top column is not a list of guesses")
        }
    }
}

@available(*, unavailable)
extension RecordStore: Sendable {}

public enum SyncStateKey: String, Sendable {
    case lastSuccess = "last_success"
    case lastError = "last_error"
    case lastAttempt = "last_attempt"
}

public struct StoreSummary: Sendable, Equatable {
    public var total = 0
    /// Not yet held by the server and still to be sent.
    public var pending = 0
    /// Not held by the server because it refused them: kept, set aside until `retryRefused`.
    public var refused = 0
    /// The server's reason for the most recently refused record.
    public var latestRefusal: String?
    public var pendingExported = 0
    public var oldestPendingCapturedAtMilliseconds: Int64?
    public var oldestPendingSequence: Int64?
    public var lastSuccess: String?
    public var lastError: String?
    public var lastAttempt: String?
}
