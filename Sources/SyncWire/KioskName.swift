/// The rule for a kiosk's name, the same on the kiosk (`kiosk enroll`) and the server (`kiosk-central device add`).
public enum KioskName {
    /// nil when `name` is acceptable, else the message for the technician.
    public static func problem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0))
        }
        return !name.isEmpty && name.count <= 64 && allowed ? nil
            : "kiosk name \"\(name)\" must be 1-64 letters, digits, '-', '_' or '.'"
    }
}
