/// Exponential backoff with jitter and a cap, for reconnecting to a camera or a server.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Each delay is drawn uniformly from [delay * (1 - jitter), delay].
    public var jitter: Double
    public private(set) var attempt = 0

    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Double = 0.5) {
        precondition(initial > .zero && maximum >= initial && multiplier >= 1 && (0...1).contains(jitter))
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before the next attempt; each call counts one more failure.
    public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let base = min(initial * pow(multiplier, attempt), maximum)
        attempt += 1
        let factor = 1 - jitter * Double.random(in: 0...1, using: &generator)
        return base * factor
    }

    public mutating func next() -> Duration {
        var g = SystemRandomNumberGenerator()
        return next(using: &g)
    }

    /// After a success: the next failure waits `initial` again.
    public mutating func reset() { attempt = 0 }

    private func pow(_ base: Double, _ exponent: Int) -> Double {
        var r = 1.0
        for _ in 0..<min(exponent, 64) { r *= base }
        return r
    }
}
