import Central
import Foundation
import KioskCore
import Synchronization
import SyncWire
import Testing

/// Residents' points on each backend: codes checked, claimed once, counted when their record arrives.
@Suite struct ClaimsTests {
    static let now: Int64 = 1_795_000_000_000
    static let tokens = ["station-1": "token-of-station-1-0123456789", "station-2": "token-of-station-2-0123456789"]

    static func code(_ record: UUID, kiosk: String = "station-1", signedBy signer: String? = nil, issued: Int64 = now) -> String {
        let key = ClaimCode.signingKey(tokenSHA256: OfflineBundle.key(forToken: tokens[signer ?? kiosk]!))
        return ClaimCode(kiosk: kiosk, record: record, issuedAtSeconds: issued / 1000).text(key: key)
    }

    static func record(_ id: UUID, kiosk: String = "station-1", category: WasteCategory = .hazardous, sequence: Int64 = 1,
                       correction: String? = nil) -> ScanRecord {
        ScanRecord(id: id, kiosk: kiosk, capturedAtMilliseconds: now, sequence: sequence, label: "battery", category: category,
                   confidence: 0.9, top: [.init(label: "battery", p: 0.9)], modelVersion: "m1", language: .zh, correction: correction)
    }

    /// A prepared store with both kiosks registered and the shipped catalogue's points.
    static func withStore(_ backend: Backend, _ body: @Sendable (CentralStore) async throws -> Void) async throws {
        let database = try await FreshDatabase.make(backend)
        defer { Task { await database.remove() } }
        try await database.store().whileRunning { store in
            for (name, token) in tokens { try await store.addDevice(name: name, tokenHash: Ingest.hash(token: token), atMilliseconds: now) }
            try await store.setClaimPoints([.recyclable: 5, .hazardous: 10, .kitchen: 2])
            try await body(store)
        }
    }

    static func refusal(_ body: () async throws -> Void) async -> ClaimRefusal? {
        do {
            try await body()
            return nil
        } catch {
            return error as? ClaimRefusal
        }
    }

    @Test(arguments: Backend.available)
    func aCodeClaimedBeforeItsRecordArrivesIsPendingThenCountedOnce(_ backend: Backend) async throws {
        try await Self.withStore(backend) { store in
            let claims = Claims(store: store) { Self.now + 60_000 }
            let mei = try ResidentLogin(nickname: " Mei ", pin: "2468")
            let early = UUID(), late = UUID()
            // Its record is already here: counted at once.
            _ = try await store.ingest([Self.record(early, category: .recyclable)], receivedAtMilliseconds: Self.now)
            let (first, _) = try await claims.claim(code: Self.code(early), login: mei)
            #expect(first.state == .credited && first.points == 5 && first.category == .recyclable)
            // Not here yet: pending until the kiosk's sync brings it.
            let (second, afterSecond) = try await claims.claim(code: Self.code(late), login: mei)
            #expect(afterSecond.points == 5 && afterSecond.pending == 1)
            #expect(second.state == .pending && second.points == 0)
            var balance = try await claims.balance(login: try ResidentLogin(nickname: "mei", pin: "2468"))
            #expect(balance.points == 5 && balance.pending == 1 && balance.history.count == 2)
            _ = try await store.ingest([Self.record(late, sequence: 2)], receivedAtMilliseconds: Self.now + 120_000)
            // Delivered again (a retried batch): still counted once.
            _ = try await store.ingest([Self.record(late, sequence: 2)], receivedAtMilliseconds: Self.now + 130_000)
            balance = try await claims.balance(login: mei)
            #expect(balance.points == 15 && balance.pending == 0)
            #expect(balance.history.first { $0.record == late }?.state == .credited)

            // The same code again, by her or by someone else: refused, nothing added.
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(late), login: mei) }
                    == .claimedAlready("you have claimed this code already"))
            let li = try ResidentLogin(nickname: "li", pin: "1357")
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(late), login: li) }
                    == .claimedAlready("this code was claimed by someone else"))
            #expect(try await claims.balance(login: mei).points == 15)
            #expect(try await claims.balance(login: li).points == 0)

            let totals = try await store.pointsTotals(from: CivilDay(parsing: "2026-11-17")!, to: CivilDay(parsing: "2026-11-19")!)
            #expect(totals == [PointsTotal(day: "2026-11-18", kiosk: "station-1", claims: 2, credited: 2, pending: 0, void: 0, points: 15)])
        }
    }

    @Test(arguments: Backend.available)
    func forgedExpiredAndOtherKiosksCodesAreRefused(_ backend: Backend) async throws {
        try await Self.withStore(backend) { store in
            let claims = Claims(store: store) { Self.now + 60_000 }
            let mei = try ResidentLogin(nickname: "mei", pin: "2468")
            let id = UUID()
            // Signed with station-2's key but naming station-1, an unknown kiosk, an altered time: forged.
            let forged = await Self.refusal { _ = try await claims.claim(code: Self.code(id, signedBy: "station-2"), login: mei) }
            #expect(forged == .forged("the code's signature does not match its kiosk (forged or altered)"))
            let stranger = Self.code(id).replacingOccurrences(of: "station-1", with: "station-9")
            #expect(await Self.refusal { _ = try await claims.claim(code: stranger, login: mei) }
                    == .forged("the code names kiosk station-9, which is not registered here"))
            // More than a day old.
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(id, issued: Self.now - ClaimCode.lifetimeMilliseconds - 61_000), login: mei) }
                    == .expired("the code has expired (codes can be claimed for a day)"))
            // station-1's genuine code, but the record is station-2's: void once the record is seen, no points.
            _ = try await store.ingest([Self.record(id, kiosk: "station-2")], receivedAtMilliseconds: Self.now)
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(id), login: mei) }
                    == .void("the code names kiosk station-1, but its scan was made at station-2"))
            // A scan corrected at the kiosk earns nothing, and neither does a bin without points.
            let corrected = UUID(), residual = UUID()
            _ = try await store.ingest([Self.record(corrected, sequence: 2, correction: "category:other"),
                                        Self.record(residual, category: .other, sequence: 3)], receivedAtMilliseconds: Self.now)
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(corrected), login: mei) }
                    == .void("the scan was corrected at the kiosk, so it earns no points"))
            #expect(await Self.refusal { _ = try await claims.claim(code: Self.code(residual), login: mei) }
                    == .void("other scans earn no points"))
            let balance = try await claims.balance(login: mei)
            #expect(balance.points == 0 && balance.pending == 0)
        }
    }

    @Test(arguments: Backend.available)
    func wrongPINsLockTheNicknameForAQuarterOfAnHour(_ backend: Backend) async throws {
        try await Self.withStore(backend) { store in
            let clock = Clock(Self.now)
            let claims = Claims(store: store) { clock.now }
            _ = try await claims.claim(code: Self.code(UUID()), login: try ResidentLogin(nickname: "mei", pin: "2468"))
            let wrong = try ResidentLogin(nickname: "mei", pin: "0000")
            for _ in 0..<(Claims.failuresBeforeLock - 1) {
                #expect(await Self.refusal { _ = try await claims.balance(login: wrong) } == .wrongPIN("wrong PIN for mei"))
            }
            // A right PIN before the limit clears the count.
            _ = try await claims.balance(login: try ResidentLogin(nickname: "mei", pin: "2468"))
            for _ in 0..<Claims.failuresBeforeLock { _ = await Self.refusal { _ = try await claims.balance(login: wrong) } }
            let right = try ResidentLogin(nickname: "mei", pin: "2468")
            let locked = await Self.refusal { _ = try await claims.balance(login: right) }
            #expect(locked == .locked("too many wrong PINs for mei; try again later", retryAfter: 900))
            clock.now += Claims.lockMilliseconds + 1
            #expect(try await claims.balance(login: try ResidentLogin(nickname: "mei", pin: "2468")).points == 0)
            #expect(await Self.refusal { _ = try await claims.balance(login: try ResidentLogin(nickname: "nobody", pin: "1234")) }
                    == .unknownResident("no resident is called nobody (claim a code first)"))
        }
    }

    @Test(arguments: [("m", "1234", "nickname must have"), ("mei<script>", "1234", "letters, digits"),
                      ("mei", "12", "PIN must be"), ("mei", "12ab", "PIN must be"), ("mei", "123456789", "PIN must be")])
    func badNicknamesAndPINsAreRefused(_ nickname: String, _ pin: String, _ expected: String) {
        #expect {
            _ = try ResidentLogin(nickname: nickname, pin: pin)
        } throws: { error in
            guard case .invalid(let message) = error as? ClaimRefusal else { return false }
            return message.contains(expected)
        }
    }
}

/// A settable clock for the lock's expiry.
final class Clock: Sendable {
    private let value: Mutex<Int64>
    init(_ value: Int64) { self.value = Mutex(value) }
    var now: Int64 {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
