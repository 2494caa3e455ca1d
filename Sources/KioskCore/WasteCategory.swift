/// The six bins a kiosk sorts into. The raw value is the stable identifier used in data files and records.
public enum WasteCategory: String, CaseIterable, Sendable, Codable, Hashable {
    case recyclable
    case hazardous
    case kitchen
    case other
    case eWaste = "e-waste"
    case bulky
}
