import Foundation
import KioskCore
import SyncWire

/// One field photo as the server keeps it.
public struct StoredFieldPhoto: Sendable, Equatable {
    public var photo: FieldPhoto
    public var receivedAtMilliseconds: Int64
}

extension CentralStore {
    /// How long field photos are kept by default (`serve --field-photo-days`): a year of retraining material.
    public static let fieldPhotoRetentionDays = 365

    /// Stores field photos (all of one kiosk, already checked); one result per photo, in order.
    public func ingest(photos: [FieldPhoto], receivedAtMilliseconds now: Int64) async throws(CentralError) -> [BatchResponse.Result] {
        guard !photos.isEmpty else { return [] }
        return try await database.transaction { (db) throws(CentralError) -> [BatchResponse.Result] in
            var inserted = Set<String>()
            // A handful of rows per statement: each carries up to 256 KB.
            for start in stride(from: 0, to: photos.count, by: 8) {
                let values = photos[start..<min(start + 8, photos.count)].map { p -> [SQLValue] in
                    [.uuid(p.id), .text(p.kiosk), .integer(p.takenAtMilliseconds), .integer(now), p.label.map { .text($0) } ?? .null,
                     .text(p.source.rawValue), p.record.map { .uuid($0) } ?? .null, p.modelLabel.map { .text($0) } ?? .null,
                     p.modelVersion.map { .text($0) } ?? .null, .blob([UInt8](p.jpeg))]
                }
                let returned = try await db.query("""
                    INSERT INTO field_photos (id, kiosk, taken_at_ms, received_at_ms, label, source, record_id, model_label,
                        model_version, jpeg)
                    VALUES \(SQL.rows(values)) ON CONFLICT (id) DO NOTHING RETURNING id
                    """)
                for row in returned { inserted.insert(try row.text(0)) }
            }
            return photos.map { .init(id: $0.id, status: inserted.remove($0.id.uuidString.lowercased()) != nil ? .accepted : .duplicate) }
        }
    }

    /// Field photos taken in `[from, to)` (milliseconds since 1970; nil: unbounded), oldest first, `limit` at a time
    /// after the photo `after` (taken time and id), so an export of many never holds them all in memory.
    public func fieldPhotos(fromMilliseconds from: Int64?, toMilliseconds to: Int64?, after: (Int64, UUID)? = nil,
                            limit: Int = 200) async throws(CentralError) -> [StoredFieldPhoto] {
        var sql: SQL = """
            SELECT id, kiosk, taken_at_ms, received_at_ms, label, source, record_id, model_label, model_version, jpeg
            FROM field_photos WHERE 1 = 1
            """
        if let from { sql.append(" AND taken_at_ms >= \(bind: .integer(from))") }
        if let to { sql.append(" AND taken_at_ms < \(bind: .integer(to))") }
        if let (time, id) = after {
            sql.append(" AND (taken_at_ms > \(bind: .integer(time)) OR (taken_at_ms = \(bind: .integer(time)) AND id > \(bind: .uuid(id))))")
        }
        sql.append(" ORDER BY taken_at_ms, id LIMIT \(literal: limit)")
        return try await database.query(sql).map { (row) throws(CentralError) -> StoredFieldPhoto in
            let idText = try row.text(0)
            guard let id = UUID(uuidString: idText), let source = FieldPhoto.Source(rawValue: try row.text(5)) else {
                throw .invalid("field photo \(idText) is damaged in the database")
            }
            let record = try row.optionalText(6).flatMap(UUID.init(uuidString:))
            return StoredFieldPhoto(
                photo: FieldPhoto(id: id, kiosk: try row.text(1), takenAtMilliseconds: try row.int(2), label: try row.optionalText(4),
                                  source: source, record: record, modelLabel: try row.optionalText(7),
                                  modelVersion: try row.optionalText(8), jpeg: Data(try row.bytes(9))),
                receivedAtMilliseconds: try row.int(3))
        }
    }

    /// Deletes field photos taken before `before` (milliseconds since 1970); answers how many went.
    @discardableResult
    public func deleteFieldPhotos(takenBeforeMilliseconds before: Int64) async throws(CentralError) -> Int {
        try await database.query("DELETE FROM field_photos WHERE taken_at_ms < \(bind: .integer(before)) RETURNING id").count
    }

    /// Local midnight starting `day` in the store's time zone (milliseconds since 1970).
    public func milliseconds(atStartOf day: CivilDay) -> Int64 {
        ExportBounds.milliseconds(StatsQuery(from: day, to: day, kiosk: nil), calendar: calendar).0
    }

    /// Field photos held, and the oldest one's time.
    public func fieldPhotoCount() async throws(CentralError) -> (count: Int, oldestMilliseconds: Int64?) {
        let row = try await database.query("SELECT COUNT(*), MIN(taken_at_ms) FROM field_photos").first
        return (Int(try row?.int(0) ?? 0), try row?.optionalInt(1))
    }
}
