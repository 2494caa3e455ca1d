#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import KioskCore
import SyncWire

/// Which server this kiosk reports to and with what credentials: `enrollment.json` in the data folder, mode 0600
/// (the token is a secret).
public struct Enrollment: Sendable, Equatable, Codable {
    public static let fileName = "enrollment.json"

    public var server: String
    public var kiosk: String
    public var token: String
    /// A CA bundle for a city server whose certificate is not signed by a public CA.
    public var caFile: String?
    /// The city's model-signing public key (base64 Ed25519): from the server at enrollment, or pinned by hand.
    public var modelKey: String?

    public init(server: String, kiosk: String, token: String, caFile: String? = nil, modelKey: String? = nil) {
        self.server = server
        self.kiosk = kiosk
        self.token = token
        self.caFile = caFile
        self.modelKey = modelKey
    }

    enum CodingKeys: String, CodingKey {
        case server, kiosk, token
        case caFile = "ca_file"
        case modelKey = "model_key"
    }

    /// Checks what a technician typed; the message names the bad value.
    public func validate() throws(EnrollmentError) {
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw .invalid("server \"\(server)\" must start with https:// (or http:// on a trusted network)")
        }
        if let problem = KioskName.problem(kiosk) { throw .invalid(problem) }
        guard token.count >= 16, !token.contains(where: { $0.isWhitespace }) else {
            throw .invalid("the token must be at least 16 characters without spaces (copy it from kiosk-central device add)")
        }
    }

    public static func path(in dataDirectory: String) -> String {
        dataDirectory.hasSuffix("/") ? dataDirectory + fileName : dataDirectory + "/" + fileName
    }

    /// nil when the kiosk is not enrolled.
    public static func load(dataDirectory: String) throws(EnrollmentError) -> Enrollment? {
        let path = path(in: dataDirectory)
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw .invalid("\(path) cannot be read") }
            return nil
        }
        do {
            return try JSONDecoder().decode(Enrollment.self, from: data)
        } catch {
            throw .invalid("\(path) is damaged (\(error)); enroll again")
        }
    }

    public func save(dataDirectory: String) throws(EnrollmentError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let bytes = [UInt8](try encoder.encode(self))
            try AtomicFile.write(bytes + [0x0A], to: Self.path(in: dataDirectory), mode: 0o600)
        } catch let error as FileWriteError {
            throw .invalid(error.description)
        } catch {
            throw .invalid("cannot encode the enrollment: \(error)")
        }
    }
}

public enum EnrollmentError: Error, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): return message
        }
    }
}
