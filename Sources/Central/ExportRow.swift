import Foundation
import KioskCore

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

/// The capture-time bounds (milliseconds, end exclusive) of a query's local days.
enum ExportBounds {
    static func milliseconds(_ query: StatsQuery, calendar: Calendar) -> (Int64, Int64) {
        func start(of day: CivilDay) -> Int64 {
            let (y, m, d) = day.date
            let date = calendar.date(from: DateComponents(year: y, month: m, day: d)) ?? Date(timeIntervalSince1970: 0)
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        return (start(of: query.from), start(of: query.to.adding(days: 1)))
    }
}
