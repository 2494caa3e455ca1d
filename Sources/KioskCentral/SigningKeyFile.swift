import Crypto
import Foundation
import KioskCore
import SyncWire

/// The city's Ed25519 model-signing key: one line of base64 (the 32-byte private key) in a file of mode 0600,
/// outside the database so that a copy of the database cannot sign models. The public half goes beside it
/// (`.pub`) and into the database, which hands it to kiosks when they enroll.
enum SigningKeyFile {
    static let defaultPath = "/var/lib/kiosk-central/model-signing.key"

    static func create(at path: String) throws -> Curve25519.Signing.PrivateKey {
        if FileManager.default.fileExists(atPath: path) {
            throw fail("\(path) already exists: kiosks trust the key in it; remove it first only to start a new city key")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try AtomicFile.write(Array((key.rawRepresentation.base64EncodedString() + "\n").utf8), to: path, mode: 0o600)
            try AtomicFile.write(Array((ModelSigningKey.base64(key.publicKey) + "\n").utf8), to: path + ".pub", mode: 0o644)
        } catch {
            throw fail("\(error)")
        }
        return key
    }

    static func load(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw fail("\(path): cannot read the signing key (make one with kiosk-central keys init, or pass --key-file)")
        }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o077 != 0 {
            throw fail("\(path): the signing key is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        let text = String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }
        guard let raw = Data(base64Encoded: text), raw.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw fail("\(path): not a signing key written by kiosk-central keys init") }
        return key
    }
}
