import KioskCore

/// When the kiosk shows the model's answer by itself and when it asks the resident: the confidence and margin
/// thresholds of the settings, and the catalogue's safety rules (bin guards, look-alikes).
public struct AnswerPolicy: Sendable {
    public let minimumConfidence: Float
    public let minimumMargin: Float
    /// Labels the catalogue can map to a bin; other labels are never offered as an answer.
    public let knownLabels: Set<String>
    private let catalogue: Catalogue?

    /// The rules of a catalogue: its labels, bin guards and look-alikes.
    public init(settings: ScreenSettings, catalogue: Catalogue) {
        minimumConfidence = settings.minimumConfidence
        minimumMargin = settings.minimumMargin
        knownLabels = Set(catalogue.labels.keys)
        self.catalogue = catalogue
    }

    /// Thresholds alone, without safety rules.
    public init(settings: ScreenSettings, knownLabels: Set<String>) {
        minimumConfidence = settings.minimumConfidence
        minimumMargin = settings.minimumMargin
        self.knownLabels = knownLabels
        catalogue = nil
    }

    /// Whether the model's answer is clear and safe enough to show without asking.
    public func answersByItself(_ c: Classification) -> Bool {
        knownLabels.contains(c.top.label) && c.top.probability >= minimumConfidence && c.margin >= minimumMargin
            && !(catalogue?.guardStops(c) ?? false)
    }

    /// The look-alike warning to show beside an answer of this label.
    public func lookAlike(forLabel label: String) -> SafetyRules.LookAlike? {
        catalogue?.safetyRules.lookAlike(forLabel: label)
    }
}
