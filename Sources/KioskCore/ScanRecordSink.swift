/// Where finished scans are kept (the kiosk's record store); the app writes through it from a background thread.
public protocol ScanRecordSink {
    /// Stores a record durably; returns it with the fields the store assigns (sequence).
    func append(_ record: ScanRecord) throws -> ScanRecord
    /// Stores a quiz answer durably.
    func append(_ answer: QuizAnswer) throws
    /// Keeps a field photo until the server has it; false when the kiosk already holds as many as it keeps.
    func append(_ photo: FieldPhoto, limit: Int) throws -> Bool
    /// Records per category captured at or after `since` (milliseconds since 1970).
    func counts(sinceMilliseconds since: Int64) throws -> [WasteCategory: Int]
}
