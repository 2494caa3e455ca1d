import Crypto
import _CryptoExtras
import KioskCore

/// An operator's stored password: PBKDF2-HMAC-SHA256 with a random salt and OWASP's 2023 minimum of rounds, so a
/// copied database does not give the passwords away cheaply.
public struct OperatorCredential: Sendable, Equatable {
    public var name: String
    public var salt: [UInt8]
    public var hash: [UInt8]
    public var rounds: Int
    public var createdAtMilliseconds: Int64

    public static let defaultRounds = 210_000

    public init(name: String, salt: [UInt8], hash: [UInt8], rounds: Int, createdAtMilliseconds: Int64) {
        self.name = name
        self.salt = salt
        self.hash = hash
        self.rounds = rounds
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    /// A new credential for a password.
    public init(name: String, password: String, rounds: Int = defaultRounds, now: Int64 = WallClock.nowMilliseconds) throws(CentralError) {
        var g = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        self.init(name: name, salt: salt, hash: try Self.derive(password, salt: salt, rounds: rounds), rounds: rounds,
                  createdAtMilliseconds: now)
    }

    /// Whether the password matches (compared in constant time).
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(password, salt: salt, rounds: rounds), candidate.count == hash.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(candidate, hash) { difference |= a ^ b }
        return difference == 0
    }

    static func derive(_ password: String, salt: [UInt8], rounds: Int) throws(CentralError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw .invalid("cannot hash the password: \(error)")
        }
    }

    /// Rules for a new password: long enough to resist guessing at the rate-limited login.
    public static func problem(password: String) -> String? {
        password.count < 10 ? "the password must have at least 10 characters" : nil
    }
}
