import KioskCore

/// The thresholds and timeouts a city may tune (from the configuration file or the command line).
public struct ScreenSettings: Sendable, Equatable {
    /// Below this top-1 probability the kiosk asks instead of answering.
    public var minimumConfidence: Float = NotSureThresholds.confidence
    /// Below this gap between the best and the second guess the kiosk asks instead of answering.
    public var minimumMargin: Float = NotSureThresholds.margin
    /// Result, not-sure and browse screens return to Ready after this long without a tap.
    public var idleTimeout: Duration = .seconds(10)
    /// The empty-tray message returns to Ready after this long.
    public var emptyTrayTimeout: Duration = .seconds(5)
    /// A scan that has no answer after this long is abandoned (the engine is stuck or far too slow).
    public var scanTimeout: Duration = .seconds(15)
    /// Ready starts showing lessons and quiz questions after this long without a scan or a tap.
    public var learningAfter: Duration = .seconds(30)
    /// How long a lesson stays in the band.
    public var lessonTime: Duration = .seconds(12)
    /// How long a question waits for an answer.
    public var questionTime: Duration = .seconds(20)
    /// How long the answer to a question and its reason stay.
    public var answerTime: Duration = .seconds(10)
    /// The Learn screen returns to Ready after this long without a tap.
    public var learnTimeout: Duration = .seconds(45)

    public init() {}
}
