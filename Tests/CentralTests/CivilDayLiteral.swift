import KioskCore

/// Tests write days as text; a literal that is not a real day is a mistake in the test itself.
extension CivilDay: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        guard let day = CivilDay(parsing: value) else { fatalError("not a day: \(value)") }
        self = day
    }
}
