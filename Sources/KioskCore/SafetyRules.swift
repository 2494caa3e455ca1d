/// The catalogue's rules for answers that could do harm: a resident's rubbish called recyclable contaminates the
/// recycling bin, and a spray can called "metal" belongs in the hazardous bin. Data, so a city can tune them.
public struct SafetyRules: Sendable, Codable, Hashable {
    /// An answer in `category` is shown without asking only while the model's probability on labels of other
    /// bins stays below `maxOtherBins` (e.g. a "plastic" answer with 0.3 on "trash" asks instead).
    public struct BinGuard: Sendable, Codable, Hashable {
        public var category: WasteCategory
        public var maxOtherBins: Float

        public init(category: WasteCategory, maxOtherBins: Float) {
            self.category = category
            self.maxOtherBins = maxOtherBins
        }

        enum CodingKeys: String, CodingKey {
            case category
            case maxOtherBins = "max_other_bins"
        }
    }

    /// Items the model cannot tell from a look-alike of another bin: an answer with one of `labels` shows `text`
    /// with a one-tap switch to `category`.
    public struct LookAlike: Sendable, Codable, Hashable {
        public var labels: [String]
        public var category: WasteCategory
        public var text: LocalizedText

        public init(labels: [String], category: WasteCategory, text: LocalizedText) {
            self.labels = labels
            self.category = category
            self.text = text
        }
    }

    public var binGuards: [BinGuard]
    public var lookAlikes: [LookAlike]

    public init(binGuards: [BinGuard] = [], lookAlikes: [LookAlike] = []) {
        self.binGuards = binGuards
        self.lookAlikes = lookAlikes
    }

    public static let none = SafetyRules()

    enum CodingKeys: String, CodingKey {
        case binGuards = "bin_guards"
        case lookAlikes = "look_alikes"
    }

    /// The look-alike warning for an answer, if the catalogue has one.
    public func lookAlike(forLabel label: String) -> LookAlike? {
        lookAlikes.first { $0.labels.contains(label) }
    }

    /// Problems that make the rules unusable with these labels, as one line each (empty when valid).
    func problems(labels: [String: LabelInfo]) -> [String] {
        var found: [String] = []
        var guarded: Set<WasteCategory> = []
        for binGuard in binGuards {
            if !(binGuard.maxOtherBins > 0 && binGuard.maxOtherBins <= 1) {
                found.append("bin guard for \(binGuard.category.rawValue): max_other_bins \(binGuard.maxOtherBins) is not in (0, 1]")
            }
            if !guarded.insert(binGuard.category).inserted {
                found.append("bin guard for \(binGuard.category.rawValue) is given twice")
            }
        }
        var seen: Set<String> = []
        for lookAlike in lookAlikes {
            if lookAlike.labels.isEmpty { found.append("a look-alike names no labels") }
            for label in lookAlike.labels {
                guard let info = labels[label] else {
                    found.append("look-alike for \(label): no such label")
                    continue
                }
                if info.category == lookAlike.category {
                    found.append("look-alike for \(label): it is in \(info.category.rawValue) already")
                }
                if !seen.insert(label).inserted { found.append("look-alike for \(label) is given twice") }
            }
            if lookAlike.text.zh.isEmpty || lookAlike.text.en.isEmpty {
                found.append("look-alike for \(lookAlike.labels.joined(separator: ", ")): text is empty")
            }
        }
        return found
    }
}

extension Catalogue {
    /// The model's probability on labels outside the bin of its best guess: what a bin guard limits.
    public func probabilityOutsideTopBin(_ c: Classification) -> Float {
        guard let bin = category(forLabel: c.top.label) else { return 1 }
        return c.ranked.reduce(0) { $0 + (category(forLabel: $1.label) == bin ? 0 : $1.probability) }
    }

    /// Whether a bin guard stops the model's best guess from being shown without asking.
    public func guardStops(_ c: Classification) -> Bool {
        guard let bin = category(forLabel: c.top.label),
            let binGuard = safetyRules.binGuards.first(where: { $0.category == bin })
        else { return false }
        return probabilityOutsideTopBin(c) >= binGuard.maxOtherBins
    }
}
