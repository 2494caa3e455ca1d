/// Screen-loop frame work times against the budget a frame has at 30 fps: `kiosk run`'s closing log line and
/// `kiosk selftest`'s screen line.
struct FrameTimeSummary {
    static let budgetMilliseconds = 33.3

    /// Milliseconds, ascending.
    let sorted: [Double]

    init(_ times: [Duration]) { sorted = times.map(\.milliseconds).sorted() }

    var count: Int { sorted.count }
    var median: Double? { sorted.isEmpty ? nil : sorted[sorted.count / 2] }
    var p99: Double? { sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * 0.99))] }
    var worst: Double? { sorted.last }
    var overBudget: Int { sorted.filter { $0 > Self.budgetMilliseconds }.count }
}
