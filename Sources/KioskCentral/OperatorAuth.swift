import Central
import Crypto
import Foundation
import KioskCore

/// Signed-in operators' sessions, in memory: a random 256-bit token in an HttpOnly cookie, each with its own CSRF
/// token for forms, ending after `lifetime` (or at a restart of the server).
actor Sessions {
    struct Session: Sendable {
        var operatorName: String
        var csrf: String
        var expires: ContinuousClock.Instant
    }

    static let lifetime: Duration = .seconds(12 * 3600)
    static let maximum = 10_000
    private var sessions: [String: Session] = [:]

    func create(for name: String) -> (token: String, session: Session) {
        if sessions.count >= Self.maximum {
            // Drop the expired ones, then the oldest, so memory stays bounded.
            let now = ContinuousClock.now
            sessions = sessions.filter { $0.value.expires > now }
            if sessions.count >= Self.maximum, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires }) {
                sessions[oldest.key] = nil
            }
        }
        let session = Session(operatorName: name, csrf: Token.random(), expires: .now + Self.lifetime)
        let token = Token.random()
        sessions[token] = session
        return (token, session)
    }

    func session(for token: String) -> Session? {
        guard let s = sessions[token] else { return nil }
        if s.expires <= .now {
            sessions[token] = nil
            return nil
        }
        return s
    }

    func end(_ token: String) { sessions[token] = nil }
}

/// Login rate limiting: at most `perPeer` failures from one address and `perName` for one operator name within
/// `window`; after that every attempt is refused (429) until the window has moved on.
actor LoginLimiter {
    static let window: Duration = .seconds(15 * 60)
    static let perPeer = 10
    static let perName = 5
    private var failures: [String: [ContinuousClock.Instant]] = [:]

    /// Seconds to wait when the peer or the name is locked out now; nil when an attempt may be made.
    func retryAfter(peer: String, name: String) -> Int? {
        let now = ContinuousClock.now
        var wait: Duration = .zero
        for (key, limit) in [("peer:" + peer, Self.perPeer), ("name:" + name.lowercased(), Self.perName)] {
            let recent = (failures[key] ?? []).filter { now - $0 < Self.window }
            failures[key] = recent.isEmpty ? nil : recent
            if recent.count >= limit, let first = recent.first { wait = max(wait, Self.window - (now - first)) }
        }
        return wait > .zero ? Int((wait / .seconds(1)).rounded(.up)) : nil
    }

    func failed(peer: String, name: String) {
        let now = ContinuousClock.now
        failures["peer:" + peer, default: []].append(now)
        failures["name:" + name.lowercased(), default: []].append(now)
        if failures.count > 100_000 { failures = failures.filter { !$0.value.isEmpty } }
    }

    func succeeded(name: String) { failures["name:" + name.lowercased()] = nil }
}

/// Checks operators' passwords: PBKDF2 is slow on purpose, so a good Basic credential is remembered (as a hash of
/// name and password) for a few minutes rather than re-derived on every API call.
actor PasswordChecker {
    private let store: CentralStore
    private var recent: [String: ContinuousClock.Instant] = [:]
    static let remember: Duration = .seconds(300)

    init(store: CentralStore) { self.store = store }

    func verify(name: String, password: String) async throws(CentralError) -> Bool {
        let key = Hex.encode(SHA256.hash(data: Array("\(name)\u{0}\(password)".utf8)))
        if let until = recent[key], until > .now { return true }
        guard let credential = try await store.operatorCredential(name: name), credential.verify(password) else { return false }
        if recent.count > 1000 { recent = recent.filter { $0.value > .now } }
        recent[key] = .now + Self.remember
        return true
    }
}

enum Token {
    /// 256 random bits, hex.
    static func random() -> String {
        var g = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// Compares secrets in constant time.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var d: UInt8 = 0
        for (p, q) in zip(x, y) { d |= p ^ q }
        return d == 0
    }
}
