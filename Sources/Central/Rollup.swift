import Foundation
import KioskCore

/// The statistics tables kept beside the records, so the dashboard reads a few thousand rows instead of millions:
/// per local day, kiosk, label, bin, correction and "not sure" flag a count (`stats_daily`), and per local day,
/// hour and kiosk a count (`stats_hourly`). They are updated in the same transaction as the records they count.
public struct Rollup: Sendable {
    public struct DailyKey: Hashable, Sendable {
        public init(day: String, kiosk: String, label: String, category: String, correction: String?, uncertain: Bool) {
            self.day = day
            self.kiosk = kiosk
            self.label = label
            self.category = category
            self.correction = correction
            self.uncertain = uncertain
        }

        public var day: String
        public var kiosk: String
        public var label: String
        public var category: String
        public var correction: String?
        public var uncertain: Bool
    }

    public struct HourlyKey: Hashable, Sendable {
        public var day: String
        public var hour: Int
        public var kiosk: String
    }

    public var daily: [DailyKey: Int] = [:]
    public var hourly: [HourlyKey: Int] = [:]

    /// Thresholds of the kiosk's default "not sure" screen, for records that do not say whether the kiosk asked
    /// (`asked` missing: older kiosks, `kiosk classify --record`): the server then applies them to the confidence
    /// and the gap to the second guess.
    public static let notSureConfidence = Double(NotSureThresholds.confidence)
    public static let notSureMargin = Double(NotSureThresholds.margin)

    public init() {}

    /// Whether the kiosk asked the resident (its own word when the record has it, else the default thresholds).
    public static func isUncertain(asked: Bool?, confidence: Double, top: [ScanRecord.Guess]) -> Bool {
        if let asked { return asked }
        let margin = top.count > 1 ? top[0].p - top[1].p : 1
        return confidence < notSureConfidence || margin < notSureMargin
    }

    public static func isUncertain(_ r: ScanRecord) -> Bool {
        isUncertain(asked: r.asked, confidence: r.confidence, top: r.top)
    }

    public mutating func add(_ r: ScanRecord, calendar: Calendar) {
        add(kiosk: r.kiosk, capturedAtMilliseconds: r.capturedAtMilliseconds, label: r.label, category: r.category.rawValue,
            correction: r.correction, uncertain: Self.isUncertain(r), calendar: calendar)
    }

    /// Counts one record on its local day and hour in `calendar`'s time zone.
    public mutating func add(kiosk: String, capturedAtMilliseconds: Int64, label: String, category: String, correction: String?,
                             uncertain: Bool, calendar: Calendar) {
        let date = Date(timeIntervalSince1970: Double(capturedAtMilliseconds) / 1000)
        let parts = calendar.dateComponents([.year, .month, .day, .hour], from: date)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        daily[DailyKey(day: day, kiosk: kiosk, label: label, category: category, correction: correction, uncertain: uncertain),
              default: 0] += 1
        hourly[HourlyKey(day: day, hour: parts.hour ?? 0, kiosk: kiosk), default: 0] += 1
    }

    public var isEmpty: Bool { daily.isEmpty && hourly.isEmpty }
}

/// What the dashboard and `GET /api/v1/stats` ask for: a range of local days (inclusive) and optionally a kiosk.
public struct StatsQuery: Sendable, Equatable {
    public var from: CivilDay
    public var to: CivilDay
    public var kiosk: String?

    public static let maximumDays = 366

    public init(from: CivilDay, to: CivilDay, kiosk: String?) {
        self.from = from
        self.to = to
        self.kiosk = kiosk
    }
}

/// The figures a city acts on, for one query. Encoded as the stats API's JSON.
public struct FleetStatistics: Sendable, Codable, Equatable {
    public struct Day: Sendable, Codable, Equatable {
        public var day: String
        public var count: Int
    }

    public struct Kiosk: Sendable, Codable, Equatable {
        public var name: String
        public var registered: String
        /// When its last batch arrived (ISO 8601, UTC), nil if never.
        public var lastSync: String?
        /// Its newest scan's time (its own clock).
        public var newestScan: String?
        /// All its records, and those in the query's range.
        public var recordsTotal: Int
        public var records: Int
        public var modelVersion: String?
        /// Share of the range's answers the kiosk was not sure about (0-1; nil without records).
        public var notSureShare: Double?

        enum CodingKeys: String, CodingKey {
            case name, registered, records
            case lastSync = "last_sync"
            case newestScan = "newest_scan"
            case recordsTotal = "records_total"
            case modelVersion = "model_version"
            case notSureShare = "not_sure_share"
        }
    }

    public struct LabelAccuracy: Sendable, Codable, Equatable {
        public var label: String
        public var answers: Int
        public var corrected: Int
        /// What residents chose instead, with counts.
        public var correctedTo: [String: Int]

        enum CodingKeys: String, CodingKey {
            case label, answers, corrected
            case correctedTo = "corrected_to"
        }
    }

    public var from: String
    public var to: String
    public var kiosk: String?
    /// Records in the range (and kiosk, when given).
    public var total: Int
    public var today: Int
    public var last7Days: Int
    public var last30Days: Int
    public var perCategory: [String: Int]
    /// Every day of the range's last 30 days, oldest first, zero days included.
    public var daily: [Day]
    /// Records per local hour of the day (0-23) over the range.
    public var hourly: [Int]
    public var notSure: Int
    public var kiosks: [Kiosk]
    public var accuracy: [LabelAccuracy]
    /// Every registered kiosk's name, whatever the query's kiosk (the dashboard's kiosk picker); not in the JSON.
    public var allKiosks: [String] = []

    enum CodingKeys: String, CodingKey {
        case from, to, kiosk, total, today, daily, hourly, kiosks, accuracy
        case last7Days = "last_7_days"
        case last30Days = "last_30_days"
        case perCategory = "per_category"
        case notSure = "not_sure"
    }
}

/// One row of `stats_hourly` as read back, and one kiosk's state.
public struct HourlyRow: Sendable {
    public var hour: Int
    public var count: Int
}

public struct KioskState: Sendable {
    public var name: String
    public var createdAtMilliseconds: Int64
    public var lastBatchMilliseconds: Int64?
    public var newestScanMilliseconds: Int64?
    public var records: Int
    public var modelVersion: String?
}

/// Grouped rollup figures as a store reads them back; `build` turns them into `FleetStatistics`.
public struct StatsRows: Sendable {
    /// Counts over the range grouped by kiosk, label, bin, correction and the not-sure flag (`day` left empty).
    public var groups: [Rollup.DailyKey: Int] = [:]
    /// Counts per day over the range.
    public var perDay: [String: Int] = [:]
    /// Counts per day over the 30 days up to today.
    public var recentPerDay: [String: Int] = [:]
    public var hourly: [HourlyRow] = []
    public var kiosks: [KioskState] = []

    public init() {}
}

extension FleetStatistics {
    /// Builds the figures from the grouped rows of a query, `today` being the server's local day.
    static func build(query: StatsQuery, today: CivilDay, rows: StatsRows) -> FleetStatistics {
        var perCategory: [String: Int] = [:]
        var perKiosk: [String: (records: Int, uncertain: Int)] = [:]
        var accuracy: [String: LabelAccuracy] = [:]
        var total = 0, notSure = 0
        for (r, n) in rows.groups {
            total += n
            perCategory[r.category, default: 0] += n
            perKiosk[r.kiosk, default: (0, 0)].records += n
            if r.uncertain {
                notSure += n
                perKiosk[r.kiosk, default: (0, 0)].uncertain += n
            }
            var a = accuracy[r.label] ?? LabelAccuracy(label: r.label, answers: 0, corrected: 0, correctedTo: [:])
            a.answers += n
            if let c = r.correction, c != r.label {
                a.corrected += n
                a.correctedTo[c, default: 0] += n
            }
            accuracy[r.label] = a
        }
        // Rollup keys are YYYY-MM-DD text, which sorts as the days do.
        let now = today.description, last7 = today.adding(days: -6).description, last30 = today.adding(days: -29).description
        var today0 = 0, week = 0, month = 0
        for (day, n) in rows.recentPerDay {
            if day == now { today0 += n }
            if day >= last7 && day <= now { week += n }
            if day >= last30 && day <= now { month += n }
        }
        let trendStart = max(query.from, query.to.adding(days: -29))
        let daily = trendStart.through(query.to).map { Day(day: $0.description, count: rows.perDay[$0.description] ?? 0) }
        var hours = [Int](repeating: 0, count: 24)
        for h in rows.hourly where (0..<24).contains(h.hour) { hours[h.hour] += h.count }
        let kioskRows = rows.kiosks.filter { query.kiosk == nil || $0.name == query.kiosk }.map { k in
            let inRange = perKiosk[k.name]
            return Kiosk(
                name: k.name, registered: WallClock.iso8601(milliseconds: k.createdAtMilliseconds),
                lastSync: k.lastBatchMilliseconds.map(WallClock.iso8601(milliseconds:)),
                newestScan: k.newestScanMilliseconds.map(WallClock.iso8601(milliseconds:)),
                recordsTotal: k.records, records: inRange?.records ?? 0, modelVersion: k.modelVersion,
                notSureShare: inRange.map { Double($0.uncertain) / Double(max(1, $0.records)) })
        }
        return FleetStatistics(
            from: query.from.description, to: query.to.description, kiosk: query.kiosk, total: total, today: today0, last7Days: week,
            last30Days: month, perCategory: perCategory, daily: daily, hourly: hours, notSure: notSure,
            kiosks: kioskRows.sorted { $0.name < $1.name },
            accuracy: accuracy.values.sorted { $0.answers != $1.answers ? $0.answers > $1.answers : $0.label < $1.label },
            allKiosks: rows.kiosks.map(\.name).sorted())
    }
}

extension CivilDay {
    /// Today in a time zone.
    public static func today(in calendar: Calendar, now: Date = Date()) -> CivilDay {
        let p = calendar.dateComponents([.year, .month, .day], from: now)
        return CivilDay(year: p.year ?? 1970, month: p.month ?? 1, day: p.day ?? 1) ?? CivilDay(ordinal: 0)
    }
}
