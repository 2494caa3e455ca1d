import Foundation
import KioskCore
import SyncWire

/// A resident's points account: a nickname and a PIN, nothing more personal.
public struct ResidentLogin: Sendable, Equatable {
    /// Trimmed, and lower-cased for the account's key, so "Mei" and "mei" are one account.
    public let nickname: String
    public let pin: String

    public static let nicknameLength = 2...24
    public static let pinLength = 4...8

    /// - Throws: `ClaimRefusal.invalid` naming what is wrong.
    public init(nickname: String, pin: String) throws(ClaimRefusal) {
        let name = nickname.trimmingCharacters(in: .whitespaces).lowercased()
        guard Self.nicknameLength.contains(name.count) else {
            throw .invalid("the nickname must have \(Self.nicknameLength.lowerBound) to \(Self.nicknameLength.upperBound) characters")
        }
        guard name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0.properties.numericType != nil || " -_.".unicodeScalars.contains($0) }) else {
            throw .invalid("the nickname may hold letters, digits, spaces, '-', '_' and '.' only")
        }
        guard Self.pinLength.contains(pin.count), pin.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .invalid("the PIN must be \(Self.pinLength.lowerBound) to \(Self.pinLength.upperBound) digits")
        }
        self.nickname = name
        self.pin = pin
    }
}

/// Where a claim stands: waiting for its scan record, counted, or refused once the record was seen.
public enum ClaimState: String, Sendable, Codable {
    case pending
    case credited
    case void
}

/// One claimed code, as its resident and the operators see it.
public struct ClaimEntry: Sendable, Equatable, Codable {
    public var record: UUID
    public var kiosk: String
    public var issuedAtMilliseconds: Int64
    public var claimedAtMilliseconds: Int64
    public var state: ClaimState
    public var category: WasteCategory?
    public var points: Int
    /// Why a void claim earned nothing.
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case record, kiosk, state, category, points, reason
        case issuedAtMilliseconds = "issued_at_ms"
        case claimedAtMilliseconds = "claimed_at_ms"
    }
}

public struct PointsBalance: Sendable, Equatable, Codable {
    public var nickname: String
    public var points: Int
    public var pending: Int
    /// Newest first, at most `Claims.historyLength`.
    public var history: [ClaimEntry]
}

/// Points per kiosk and day (the day the code was shown, in the server's time zone).
public struct PointsTotal: Sendable, Equatable, Codable {
    public var day: String
    public var kiosk: String
    public var claims: Int
    public var credited: Int
    public var pending: Int
    public var void: Int
    public var points: Int

    public init(day: String, kiosk: String, claims: Int, credited: Int, pending: Int, void: Int, points: Int) {
        self.day = day
        self.kiosk = kiosk
        self.claims = claims
        self.credited = credited
        self.pending = pending
        self.void = void
        self.points = points
    }

    public static let csvHeader = "day,kiosk,claims,credited,pending,void,points"
    public var csvLine: String { "\(day),\(kiosk),\(claims),\(credited),\(pending),\(void),\(points)" }
}

/// Why a claim or a balance was refused; each maps to one 4xx answer.
public enum ClaimRefusal: Error, Equatable, CustomStringConvertible {
    /// 400: a malformed code, nickname or PIN.
    case invalid(String)
    /// 403: a forged or altered code.
    case forged(String)
    /// 410
    case expired(String)
    /// 409: the code was claimed before (by this resident or another).
    case claimedAlready(String)
    /// 409: the scan behind the code earns no points (corrected at the kiosk, another kiosk's record, a bin without points).
    case void(String)
    /// 403
    case wrongPIN(String)
    /// 404: a balance asked for a nickname that has never claimed.
    case unknownResident(String)
    /// 429: too many wrong PINs for this nickname; seconds to wait.
    case locked(String, retryAfter: Int)
    case storage(CentralError)

    public var description: String {
        switch self {
        case .invalid(let m), .forged(let m), .expired(let m), .claimedAlready(let m), .void(let m), .wrongPIN(let m),
             .unknownResident(let m), .locked(let m, _): m
        case .storage(let e): "storage: \(e)"
        }
    }
}

/// The rules of the points scheme, apart from HTTP: a code is checked against its kiosk's key and its time, claimed
/// once, and counted when (and only if) its scan record is on the server, uncorrected and from that kiosk.
public struct Claims: Sendable {
    public let store: CentralStore
    public let clock: @Sendable () -> Int64

    public static let historyLength = 50
    /// Wrong PINs in a row before a nickname is locked, and for how long.
    public static let failuresBeforeLock = 5
    public static let lockMilliseconds: Int64 = 15 * 60 * 1000
    /// PBKDF2 rounds for PINs: a PIN has few possibilities, so what protects it is the lock, not the rounds.
    public static let pinRounds = 20_000

    public init(store: CentralStore, clock: @escaping @Sendable () -> Int64 = { WallClock.nowMilliseconds }) {
        self.store = store
        self.clock = clock
    }

    /// Claims a code for a resident (created with this PIN on first use); answers the claim as it stands and the
    /// resident's balance after it (the PIN checked once).
    public func claim(code text: String, login: ResidentLogin) async throws(ClaimRefusal) -> (claim: ClaimEntry, balance: PointsBalance) {
        let now = clock()
        let code = try await verify(text, now: now)
        try await signIn(login, now: now, create: true)
        let entry: ClaimEntry
        do {
            entry = try await store.claim(code, resident: login.nickname, now: now)
        } catch .nameTaken(let owner) {
            throw .claimedAlready(owner == login.nickname ? "you have claimed this code already" : "this code was claimed by someone else")
        } catch {
            throw .storage(error)
        }
        if entry.state == .void { throw .void(entry.reason ?? "this scan earns no points") }
        do {
            return (entry, try await store.balance(resident: login.nickname, limit: Self.historyLength))
        } catch {
            throw .storage(error)
        }
    }

    /// A resident's points and recent claims.
    public func balance(login: ResidentLogin) async throws(ClaimRefusal) -> PointsBalance {
        let now = clock()
        try await signIn(login, now: now, create: false)
        do {
            return try await store.balance(resident: login.nickname, limit: Self.historyLength)
        } catch {
            throw .storage(error)
        }
    }

    /// The code, its signature checked against its kiosk's key and its time against `now`.
    func verify(_ text: String, now: Int64) async throws(ClaimRefusal) -> ClaimCode {
        let code: ClaimCode, mac: [UInt8]
        do {
            (code, mac) = try ClaimCode.parse(text)
        } catch {
            throw .invalid(error.description)
        }
        let tokenHash: String?
        do {
            tokenHash = try await store.tokenHash(forKiosk: code.kiosk)
        } catch {
            throw .storage(error)
        }
        guard let tokenHash, let hashBytes = Hex.decode(tokenHash) else {
            throw .forged(ClaimCodeError.unknownKiosk(code.kiosk).description)
        }
        guard code.verify(mac: mac, key: ClaimCode.signingKey(tokenSHA256: hashBytes)) else {
            throw .forged(ClaimCodeError.badSignature.description)
        }
        if let problem = code.timeProblem(now: now) {
            throw problem == .expired ? .expired(problem.description) : .invalid(problem.description)
        }
        return code
    }

    /// Checks the PIN (creating the account on first use when `create`), counting wrong PINs toward the lock.
    func signIn(_ login: ResidentLogin, now: Int64, create: Bool) async throws(ClaimRefusal) {
        do {
            for _ in 0..<2 {
                if let account = try await store.resident(login.nickname) {
                    if let until = account.lockedUntil, until > now {
                        throw ClaimRefusal.locked("too many wrong PINs for \(login.nickname); try again later",
                                                  retryAfter: Int((until - now + 999) / 1000))
                    }
                    guard account.credential.verify(login.pin) else {
                        let failures = account.failures + 1
                        let lock = failures >= Self.failuresBeforeLock ? now + Self.lockMilliseconds : nil
                        try await store.recordFailure(login.nickname, failures: lock == nil ? failures : 0, lockedUntil: lock)
                        throw ClaimRefusal.wrongPIN("wrong PIN for \(login.nickname)")
                    }
                    if account.failures > 0 { try await store.recordFailure(login.nickname, failures: 0, lockedUntil: nil) }
                    return
                }
                guard create else { throw ClaimRefusal.unknownResident("no resident is called \(login.nickname) (claim a code first)") }
                let credential = try OperatorCredential(name: login.nickname, password: login.pin, rounds: Self.pinRounds, now: now)
                // Taken meanwhile by a simultaneous first claim: the loop checks the PIN against that account.
                if try await store.addResident(credential) { return }
            }
            throw ClaimRefusal.storage(.invalid("the account \(login.nickname) could not be read back"))
        } catch let refusal as ClaimRefusal {
            throw refusal
        } catch let error as CentralError {
            throw .storage(error)
        } catch {
            throw .storage(.invalid("\(error)"))
        }
    }
}
