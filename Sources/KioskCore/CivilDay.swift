/// A calendar day in the proleptic Gregorian calendar, no time zone involved: what the server's rollups are keyed
/// by and the dashboard's ranges are made of. Its text form is `YYYY-MM-DD`; only real dates from 1970 to 9999
/// parse (2026-02-30 does not), so a value always prints back to the text it came from.
public struct CivilDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let ordinal: Int

    public static let years = 1970...9999

    public init(ordinal: Int) { self.ordinal = ordinal }

    public init?(year: Int, month: Int, day: Int) {
        guard Self.years.contains(year), (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day)
        else { return nil }
        // days-from-civil (H. Hinnant)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        ordinal = era * 146_097 + doe - 719_468
    }

    /// `YYYY-MM-DD` with a four-digit year and two-digit month and day; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var date: (year: Int, month: Int, day: Int) { WallClock.civilDate(daysSince1970: ordinal) }

    public func adding(days n: Int) -> CivilDay { CivilDay(ordinal: ordinal + n) }

    /// Every day from `self` to `last`, both included; empty when `last` is earlier.
    public func through(_ last: CivilDay) -> [CivilDay] {
        ordinal <= last.ordinal ? (ordinal...last.ordinal).map(CivilDay.init(ordinal:)) : []
    }

    public var description: String {
        let (y, m, d) = date
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = String(y)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(m) + "-" + two(d)
    }

    public static func < (a: CivilDay, b: CivilDay) -> Bool { a.ordinal < b.ordinal }

    static func days(inMonth m: Int, year y: Int) -> Int {
        switch m {
        case 2: (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
