#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The kiosk's settings file (`/etc/kiosk/kiosk.json` by default): every key optional, command-line options win.
/// Unknown keys are errors, so a typo never silently leaves a default in place.
///
/// ```json
/// { "data_dir": "/var/lib/kiosk", "language": "zh", "model": "/var/lib/kiosk/model.kmodel",
///   "catalogue": "/etc/kiosk/catalogue.json", "font": "Noto Sans CJK SC", "threads": 3, "backend": "int8",
///   "server": "https://kiosk.city.example", "sync": true, "thumbnails": false, "field_photos": false,
///   "field_photos_max": 2000, "claim_codes": true,
///   "model_updates": true, "model_check_s": 600, "heartbeat_s": 60,
///   "camera": { "device": "/dev/video0", "modes": ["MJPG:1280x720@30"], "exposure": "auto",
///               "white_balance": 4600, "focus": 40 },
///   "screen": { "windowed": false, "min_confidence": 0.55, "min_margin": 0.15, "idle_timeout_s": 10 } }
/// ```
public struct KioskConfiguration: Sendable, Equatable {
    public struct Camera: Sendable, Equatable {
        public var device: String?
        /// `FORMAT:WxH[@FPS]`, tried in order.
        public var modes: [String]?
        public var exposure: CameraControl?
        public var whiteBalance: CameraControl?
        public var focus: CameraControl?

        public init(device: String? = nil, modes: [String]? = nil, exposure: CameraControl? = nil,
                    whiteBalance: CameraControl? = nil, focus: CameraControl? = nil) {
            self.device = device
            self.modes = modes
            self.exposure = exposure
            self.whiteBalance = whiteBalance
            self.focus = focus
        }
    }

    public static let defaultPath = "/etc/kiosk/kiosk.json"
    /// Inference threads a command line or this file may ask for.
    public static let inferenceThreads = 1...256

    public var dataDirectory: String?
    public var language: Language?
    public var model: String?
    public var catalogue: String?
    public var font: String?
    public var threads: Int?
    public var backend: InferenceBackend?
    /// The central server; `kiosk enroll` uses it when `--server` is not given.
    public var server: String?
    /// Whether `kiosk run` syncs in the background (false when `kiosk-sync.service` does it).
    public var sync: Bool?
    /// Whether `kiosk run` keeps a small JPEG of each scanned frame in its record (default off: privacy).
    public var thumbnails: Bool?
    /// Whether the kiosk keeps the model's crop of scans residents corrected or it was unsure about, and syncs
    /// them for retraining (default off: privacy).
    public var fieldPhotos: Bool?
    /// The most field photos kept waiting for the server (default 2000, about 50 MB).
    public var fieldPhotosMaximum: Int?
    /// Whether the result screen shows a points code (QR) when the kiosk is enrolled (default on).
    public var claimCodes: Bool?
    /// Whether the sync takes the model the server assigns (default on; never when `model` names a file).
    public var modelUpdates: Bool?
    /// How often the sync asks which model is assigned, in seconds (default 600).
    public var modelCheckSeconds: Double?
    /// How often the sync sends a heartbeat, in seconds (default 60).
    public var heartbeatSeconds: Double?
    public var camera = Camera()
    public var windowed: Bool?
    public var minimumConfidence: Double?
    public var minimumMargin: Double?
    public var idleTimeoutSeconds: Double?

    public init() {}

    /// Parses and checks a configuration file's bytes.
    /// - Throws: `ConfigurationError` naming the file and the key that is wrong.
    public init(json: [UInt8], source: String) throws(ConfigurationError) {
        let root: [String: JSONValue]
        do {
            root = try JSONDecoder().decode([String: JSONValue].self, from: Data(json))
        } catch {
            throw ConfigurationError(source: source, key: nil, reason: "not a JSON object (\(Self.reason(error)))")
        }
        let reader = Reader(source: source)
        for (key, value) in root {
            switch key {
            case "data_dir": dataDirectory = try reader.path(value, key)
            case "language":
                let text = try reader.string(value, key)
                guard let language = Language(rawValue: text) else {
                    throw reader.error(key, "must be \"zh\" or \"en\", not \"\(text)\"")
                }
                self.language = language
            case "model": model = try reader.path(value, key)
            case "catalogue": catalogue = try reader.path(value, key)
            case "font": font = try reader.string(value, key)
            case "threads":
                let range = Self.inferenceThreads
                threads = Int(try reader.number(value, key, in: Double(range.lowerBound)...Double(range.upperBound), integer: true))
            case "backend":
                let name = try reader.string(value, key)
                guard let backend = InferenceBackend(rawValue: name) else {
                    throw reader.error(key, "must be \(InferenceBackend.quotedNames), not \"\(name)\"")
                }
                self.backend = backend
            case "server":
                let url = try reader.string(value, key)
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw reader.error(key, "must be an http:// or https:// URL, not \"\(url)\"")
                }
                server = url
            case "sync": sync = try reader.bool(value, key)
            case "thumbnails": thumbnails = try reader.bool(value, key)
            case "field_photos": fieldPhotos = try reader.bool(value, key)
            case "field_photos_max": fieldPhotosMaximum = Int(try reader.number(value, key, in: 1...100_000, integer: true))
            case "claim_codes": claimCodes = try reader.bool(value, key)
            case "model_updates": modelUpdates = try reader.bool(value, key)
            case "model_check_s": modelCheckSeconds = try reader.number(value, key, in: 1...86_400)
            case "heartbeat_s": heartbeatSeconds = try reader.number(value, key, in: 1...86_400)
            case "camera":
                for (sub, v) in try reader.object(value, key) {
                    let name = "camera.\(sub)"
                    switch sub {
                    case "device": camera.device = try reader.path(v, name)
                    case "modes":
                        guard case .array(let items) = v, !items.isEmpty else { throw reader.error(name, "must be a list of modes like \"MJPG:1280x720@30\"") }
                        camera.modes = try items.map { item throws(ConfigurationError) in try reader.string(item, name) }
                    case "exposure", "white_balance", "focus":
                        let setting: CameraControl
                        switch v {
                        case .string("auto"): setting = .auto
                        // Bounded before converting: a huge number trapped in Int() (found by the configuration fuzz target).
                        case .number(let n) where n >= 0 && n <= Double(CameraControl.maximum) && n == n.rounded(): setting = .fixed(Int(n))
                        default: throw reader.error(name, "must be \"auto\" or a whole number from 0 to \(CameraControl.maximum)")
                        }
                        if sub == "exposure" { camera.exposure = setting } else if sub == "focus" { camera.focus = setting } else { camera.whiteBalance = setting }
                    default: throw reader.error(name, "is not a known key")
                    }
                }
            case "screen":
                for (sub, v) in try reader.object(value, key) {
                    let name = "screen.\(sub)"
                    switch sub {
                    case "windowed": windowed = try reader.bool(v, name)
                    case "min_confidence": minimumConfidence = try reader.number(v, name, in: 0...1)
                    case "min_margin": minimumMargin = try reader.number(v, name, in: 0...1)
                    case "idle_timeout_s": idleTimeoutSeconds = try reader.number(v, name, in: 1...3600)
                    default: throw reader.error(name, "is not a known key")
                    }
                }
            default:
                throw reader.error(key, "is not a known key")
            }
        }
    }

    private static func reason(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        }
        return "\(error)"
    }

    private struct Reader {
        let source: String

        func error(_ key: String, _ reason: String) -> ConfigurationError {
            ConfigurationError(source: source, key: key, reason: reason)
        }

        func string(_ value: JSONValue, _ key: String) throws(ConfigurationError) -> String {
            guard case .string(let s) = value, !s.isEmpty else { throw error(key, "must be a non-empty string") }
            return s
        }

        func path(_ value: JSONValue, _ key: String) throws(ConfigurationError) -> String {
            let s = try string(value, key)
            guard s.hasPrefix("/") else { throw error(key, "must be an absolute path, not \"\(s)\"") }
            return s
        }

        func bool(_ value: JSONValue, _ key: String) throws(ConfigurationError) -> Bool {
            guard case .bool(let b) = value else { throw error(key, "must be true or false") }
            return b
        }

        func number(_ value: JSONValue, _ key: String, in range: ClosedRange<Double>, integer: Bool = false) throws(ConfigurationError) -> Double {
            guard case .number(let n) = value, range.contains(n), !integer || n == n.rounded() else {
                let kind = integer ? "a whole number" : "a number"
                throw error(key, "must be \(kind) from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))")
            }
            return n
        }

        func object(_ value: JSONValue, _ key: String) throws(ConfigurationError) -> [String: JSONValue] {
            guard case .object(let o) = value else { throw error(key, "must be an object") }
            return o
        }

        static func format(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
    }
}

/// Why a configuration file cannot be used: the file, the key (dotted, e.g. `screen.min_confidence`), the reason.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var key: String?
    public var reason: String

    public init(source: String, key: String?, reason: String) {
        self.source = source
        self.key = key
        self.reason = reason
    }

    public var description: String {
        "configuration \(source): " + (key.map { "\($0): " } ?? "") + reason
    }
}

/// Any JSON value, for reading files whose keys are checked one by one.
enum JSONValue: Decodable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
