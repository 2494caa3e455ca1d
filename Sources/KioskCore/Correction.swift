/// What a resident settled on instead of (or confirming) the kiosk's answer, as scan records carry it: a model
/// label, or a bin (`category:<bin>`, from "browse bins" or a hazardous look-alike). The kiosk writes it and the
/// server reads it back through this one type.
public enum Correction: Hashable, Sendable {
    case label(String)
    case category(WasteCategory)

    static let categoryPrefix = "category:"

    /// Reads a record's correction: `category:<bin>` naming a known bin is that bin, anything else a label.
    public init(recordValue: String) {
        if recordValue.hasPrefix(Self.categoryPrefix),
            let bin = WasteCategory(rawValue: String(recordValue.dropFirst(Self.categoryPrefix.count))) {
            self = .category(bin)
        } else {
            self = .label(recordValue)
        }
    }

    /// How the correction is written into a scan record.
    public var recordValue: String {
        switch self {
        case .label(let label): label
        case .category(let category): Self.categoryPrefix + category.rawValue
        }
    }
}
