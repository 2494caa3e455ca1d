#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A photo kept at a station for retraining (opt-in, `field_photos: true`): the model's input crop of a scan a
/// resident corrected or the kiosk was unsure about, or a technician's labelled photo (`kiosk camera capture`).
/// Kept on the kiosk until the central server has it, like a scan record, then deleted there.
public struct FieldPhoto: Sendable, Equatable, Codable {
    /// Who said what the item is.
    public enum Source: String, Sendable, Codable, CaseIterable {
        /// A resident chose it on the screen (a correction, or a choice on the not-sure screen).
        case resident
        /// A technician labelled it (`kiosk camera capture --label`).
        case technician
        /// Nobody: the kiosk was unsure and the resident left without choosing.
        case none
    }

    /// The most bytes a photo's JPEG may have (a 224 px crop at quality 90 is about 15–30 KB).
    public static let maximumJPEGBytes = 256 << 10
    /// The side of the square crop kept: the region the model looks at, at 224 px whatever its input size.
    public static let side = 224

    /// The idempotency key, as a scan record's.
    public var id: UUID
    public var kiosk: String
    /// Wall-clock time (UTC, milliseconds since 1970).
    public var takenAtMilliseconds: Int64
    /// What the item is, as far as anyone said: a model label, or `category:<bin>` when the resident chose only a
    /// bin (see `Correction`); nil when nobody said.
    public var label: String?
    public var source: Source
    /// The scan record this photo belongs to (nil for a technician's photo).
    public var record: UUID?
    /// What the model answered for it, and which model (nil for a technician's photo).
    public var modelLabel: String?
    public var modelVersion: String?
    public var jpeg: Data

    public init(id: UUID = UUID(), kiosk: String, takenAtMilliseconds: Int64, label: String?, source: Source,
                record: UUID? = nil, modelLabel: String? = nil, modelVersion: String? = nil, jpeg: Data) {
        self.id = id
        self.kiosk = kiosk
        self.takenAtMilliseconds = takenAtMilliseconds
        self.label = label
        self.source = source
        self.record = record
        self.modelLabel = modelLabel
        self.modelVersion = modelVersion
        self.jpeg = jpeg
    }

    enum CodingKeys: String, CodingKey {
        case id, kiosk, label, source, record, jpeg
        case takenAtMilliseconds = "taken_at_ms"
        case modelLabel = "model_label"
        case modelVersion = "model_version"
    }

    /// What is wrong with a photo received from outside, or nil. The JPEG itself is checked by its decoder.
    public var problem: String? {
        let name = "field photo \(id.uuidString.lowercased())"
        if takenAtMilliseconds <= 0 { return "\(name): taken_at_ms must be positive" }
        if jpeg.isEmpty || jpeg.count > Self.maximumJPEGBytes {
            return "\(name): its JPEG has \(jpeg.count) bytes; at most \(Self.maximumJPEGBytes)"
        }
        if jpeg.count < 3 || jpeg[jpeg.startIndex] != 0xFF || jpeg[jpeg.startIndex + 1] != 0xD8 || jpeg[jpeg.startIndex + 2] != 0xFF {
            return "\(name): not a JPEG"
        }
        for (field, value) in [("label", label), ("model_label", modelLabel), ("model_version", modelVersion)] {
            if let value, !Self.isPlainName(value) { return "\(name): \(field) \"\(value.prefix(80))\" is not a plain name" }
        }
        if (label == nil) != (source == .none) { return "\(name): a label needs a source, and source none no label" }
        return nil
    }

    /// 1–64 characters of letters, digits, `_`, `-`, `.` and `:` (labels, `category:<bin>`, model versions): safe
    /// as a folder name once `:` is replaced.
    public static func isPlainName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64 && text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
                || c == 0x2E || c == 0x3A
        } && text.first != "."
    }

    /// Which scans keep a photo, and with what label: one the resident corrected (their choice), or one the kiosk
    /// was unsure about (the resident's choice on the not-sure screen, or no label when they left without one).
    /// Confident answers the resident accepted are not kept: they teach the model nothing new.
    public static func label(for record: ScanRecord, settled: String?) -> (label: String?, source: Source)? {
        if let correction = record.correction { return (correction, .resident) }
        guard record.asked == true else { return nil }
        if let settled { return (settled, .resident) }
        return (nil, .none)
    }
}
