import Foundation
import KioskCore
import Testing

import SyncWire
@testable import Sync

struct OfflineBundleTests {
    let token = "s3cret-token-0123456789"

    @Test func aSignedBundleOpensWithTheKiosksToken() throws {
        let records = [sampleRecord(), sampleRecord("food", category: .kitchen)]
        let bytes = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5, records: records).signed(token: token)
        let opened = try OfflineBundle.open(bytes) { $0 == "station-7" ? OfflineBundle.key(forToken: token) : nil }
        #expect(opened.records == records)
        #expect(opened.kiosk == "station-7")
    }

    @Test func alteredWrongKeyUnknownKioskAndGarbageAreRefused() throws {
        let bytes = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5, records: [sampleRecord()]).signed(token: token)
        var text = String(decoding: bytes, as: UTF8.self)
        text = text.replacingOccurrences(of: "0.87", with: "0.99")
        #expect(throws: BundleError.badSignature("station-7")) {
            _ = try OfflineBundle.open(Array(text.utf8)) { _ in OfflineBundle.key(forToken: token) }
        }
        #expect(throws: BundleError.badSignature("station-7")) {
            _ = try OfflineBundle.open(bytes) { _ in OfflineBundle.key(forToken: "another-token-0123456789") }
        }
        #expect(throws: BundleError.unknownKiosk("station-7")) { _ = try OfflineBundle.open(bytes) { _ in nil } }
        #expect(throws: BundleError.self) { _ = try OfflineBundle.open(Array("{\"format\":1}".utf8)) { _ in OfflineBundle.key(forToken: token) } }
    }

    @Test func quizAnswersTravelWithTheScansAndAnotherKiosksAreRefused() throws {
        let answer = QuizAnswer(kiosk: "station-7", answeredAtMilliseconds: 9, question: "battery", answer: .hazardous, right: true, language: .zh)
        let bytes = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5, records: [sampleRecord()], quiz: [answer]).signed(token: token)
        let opened = try OfflineBundle.open(bytes) { _ in OfflineBundle.key(forToken: token) }
        #expect(opened.quiz == [answer])
        // A bundle of an older kiosk has no quiz key at all.
        let plain = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5, records: [sampleRecord()]).signed(token: token)
        #expect(!String(decoding: plain, as: UTF8.self).contains("quiz"))
        #expect(try OfflineBundle.open(plain) { _ in OfflineBundle.key(forToken: token) }.quiz.isEmpty)
        var stranger = answer
        stranger.kiosk = "station-8"
        let other = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5, records: [], quiz: [stranger]).signed(token: token)
        #expect(throws: BundleError.malformed("quiz answer \(stranger.id) belongs to kiosk station-8, not station-7")) {
            _ = try OfflineBundle.open(other) { _ in OfflineBundle.key(forToken: token) }
        }
    }

    @Test func aRecordOfAnotherKioskInsideIsRefused() throws {
        let bytes = try OfflineBundle(kiosk: "station-7", createdAtMilliseconds: 5,
                                      records: [sampleRecord(kiosk: "station-8")]).signed(token: token)
        #expect(throws: BundleError.self) { _ = try OfflineBundle.open(bytes) { _ in OfflineBundle.key(forToken: token) } }
    }
}

struct EnrollmentTests {
    @Test func savesWithMode0600AndLoadsBack() throws {
        let folder = try temporaryFolder("enroll")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try Enrollment.load(dataDirectory: folder) == nil)
        let e = Enrollment(server: "https://kiosk.city.example", kiosk: "station-7", token: "0123456789abcdef0123")
        try e.validate()
        try e.save(dataDirectory: folder)
        #expect(try Enrollment.load(dataDirectory: folder) == e)
        let mode = try FileManager.default.attributesOfItem(atPath: Enrollment.path(in: folder))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try Data("{broken".utf8).write(to: URL(fileURLWithPath: Enrollment.path(in: folder)))
        #expect(throws: EnrollmentError.self) { _ = try Enrollment.load(dataDirectory: folder) }
    }

    @Test func validationNamesTheBadValue() {
        let bad = [
            Enrollment(server: "kiosk.city.example", kiosk: "s7", token: "0123456789abcdef0123"),
            Enrollment(server: "https://x", kiosk: "station 7", token: "0123456789abcdef0123"),
            Enrollment(server: "https://x", kiosk: "s7", token: "short"),
        ]
        let messages = bad.map { e -> String in
            do { try e.validate(); return "" } catch { return "\(error)" }
        }
        #expect(messages[0].contains("kiosk.city.example"))
        #expect(messages[1].contains("station 7"))
        #expect(messages[2].contains("token"))
    }
}
