import KioskCore

/// Chooses the frames a technician's labelled capture keeps (`kiosk camera capture`): one per item lying still,
/// never the empty tray, never the same scene twice in a row. The first still scene is taken as the empty tray,
/// so a capture starts with the tray empty; a scene is still once it has not changed for `stillTime`.
public struct CaptureSelector: Sendable {
    public var stillTime: Duration

    private let tray: TrayBackground
    private var empty: TrayBackground.Signature?
    private var lastKept: TrayBackground.Signature?
    private var previous: TrayBackground.Signature?
    private var stillSince: ContinuousClock.Instant?
    /// The still scene under way was already judged (kept or not): wait for the next change.
    private var judged = false

    public init(settings: TrayBackground.Settings = .init(), stillTime: Duration = .milliseconds(600)) {
        tray = TrayBackground(settings: settings)
        self.stillTime = stillTime
    }

    /// Whether the empty tray was seen (only then are items kept).
    public var knowsEmptyTray: Bool { empty != nil }

    /// Feeds a frame; true when this frame is one to keep.
    public mutating func observe(_ image: RGBImage, at now: ContinuousClock.Instant) -> Bool {
        let signature = tray.signature(of: image)
        defer { previous = signature }
        let fraction = tray.settings.emptyFraction
        guard let previous, tray.changedFraction(previous, signature) < fraction else {
            stillSince = now
            judged = false
            return false
        }
        guard !judged, let since = stillSince, now - since >= stillTime else { return false }
        judged = true
        guard let empty else {
            self.empty = signature
            return false
        }
        if tray.changedFraction(empty, signature) < fraction {
            self.empty = signature  // the tray again, perhaps in other light
            return false
        }
        if let lastKept, tray.changedFraction(lastKept, signature) < fraction { return false }
        lastKept = signature
        return true
    }
}
