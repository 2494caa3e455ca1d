/// The kiosk's default "not sure" thresholds: below `confidence` top-1 probability, or within `margin` of the
/// second guess, the kiosk asks instead of answering. One place for the kiosk's settings, the server's estimate
/// for records that do not say, and the answer to a resident's photo.
public enum NotSureThresholds {
    public static let confidence: Float = 0.55
    public static let margin: Float = 0.15

    /// Whether a classification falls below the default thresholds.
    public static func applies(to c: Classification) -> Bool {
        c.top.probability < confidence || c.margin < margin
    }
}
