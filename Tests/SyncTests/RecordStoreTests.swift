import Foundation
import KioskCore
import Testing

import SQLite
@testable import Sync

func temporaryFolder(_ tag: String) throws -> String {
    let path = NSTemporaryDirectory() + "kiosk-\(tag)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func sampleRecord(_ label: String = "glass", category: WasteCategory = .recyclable, at ms: Int64 = 1_795_000_000_000,
                  kiosk: String = "station-7") -> ScanRecord {
    ScanRecord(kiosk: kiosk, capturedAtMilliseconds: ms, label: label, category: category, confidence: 0.87,
               top: [.init(label: label, p: 0.87), .init(label: "plastic", p: 0.1)], modelVersion: "0123456789abcdef",
               language: .zh, correction: label == "trash" ? "plastic" : nil)
}

struct RecordStoreTests {
    @Test func appendAssignsSequencesAndRecordsSurviveReopening() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var ids: [UUID] = []
        do {
            let store = try RecordStore(dataDirectory: folder + "/nested/data")
            for (i, label) in ["glass", "trash", "food"].enumerated() {
                let stored = try store.append(sampleRecord(label, category: label == "food" ? .kitchen : .recyclable))
                #expect(stored.sequence == Int64(i + 1))
                ids.append(stored.id)
            }
        }
        let reopened = try RecordStore(dataDirectory: folder + "/nested/data")
        let all = try reopened.all()
        #expect(all.map(\.id) == ids)
        #expect(all.map(\.sequence) == [1, 2, 3])
        #expect(all[1].correction == "plastic")
        #expect(all[0].top == [.init(label: "glass", p: 0.87), .init(label: "plastic", p: 0.1)])
        #expect(all[0].language == .zh)
        #expect(all[2].category == .kitchen)
    }

    @Test func pendingSyncedAndPurge() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        let records = try (0..<5).map { i in try store.append(sampleRecord(at: 1_795_000_000_000 + Int64(i))) }
        let now: Int64 = 1_800_000_000_000
        #expect(try store.markSynced([records[0].id, records[1].id], atMilliseconds: now - 40 * 86_400_000) == 2)
        #expect(try store.markSynced([records[2].id], atMilliseconds: now) == 1)
        #expect(try store.markSynced([records[2].id], atMilliseconds: now) == 0)  // already synced
        #expect(try store.pending(limit: 10).map(\.id) == [records[3].id, records[4].id])
        var summary = try store.summary()
        #expect(summary.total == 5 && summary.pending == 2 && summary.oldestPendingSequence == 4)
        // Only synced records older than the retention go; pending ones never do.
        #expect(try store.purgeSynced(nowMilliseconds: now) == 2)
        summary = try store.summary()
        #expect(summary.total == 3 && summary.pending == 2)
        #expect(try store.pending(limit: 1).map(\.id) == [records[3].id])
    }

    @Test func aRefusedRecordIsSetAsideKeptAndCanBeRetried() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        let records = try (0..<4).map { i in try store.append(sampleRecord(at: 1_795_000_000_000 + Int64(i))) }
        #expect(try store.markRefused(records[1].id, reason: "unknown category", atMilliseconds: 10))
        #expect(try !store.markRefused(records[1].id, reason: "again", atMilliseconds: 11))  // already set aside
        try store.markSynced([records[2].id], atMilliseconds: 12)
        #expect(try !store.markRefused(records[2].id, reason: "synced", atMilliseconds: 13))  // held by the server
        #expect(try store.pending(limit: 10).map(\.id) == [records[0].id, records[3].id])
        var summary = try store.summary()
        #expect(summary.total == 4 && summary.pending == 2 && summary.refused == 1)
        #expect(try store.pendingCount() == 2)
        #expect(summary.latestRefusal == "unknown category")
        // Never purged: it has not reached the server.
        #expect(try store.purgeSynced(nowMilliseconds: Int64.max / 2) == 1)
        #expect(try store.all().map(\.id) == [records[0].id, records[1].id, records[3].id])
        #expect(try store.retryRefused() == 1)
        summary = try store.summary()
        #expect(summary.pending == 3 && summary.refused == 0 && summary.latestRefusal == nil)
        #expect(try store.pending(limit: 10).map(\.id) == [records[0].id, records[1].id, records[3].id])
    }

    @Test func aStoreFromTheKioskBeforeRefusalsUpgradesWithItsRecordsPending() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/" + RecordStore.fileName
        do {
            let old = try SQLiteConnection.durable(path: path)
            try old.migrate(Array(RecordStore.migrations.prefix(2)), program: "kiosk")
            try old.execute("""
                INSERT INTO records (id, sequence, kiosk, captured_at_ms, label, category, confidence, top, model_version, language)
                VALUES ('00000000-0000-4000-8000-000000000001', 1, 'station-7', 5, 'glass', 'recyclable', 0.9, '[]', 'm', 'en')
                """)
        }
        let store = try RecordStore(dataDirectory: folder)
        #expect(try store.pending(limit: 10).map(\.sequence) == [1])
        #expect(try store.summary().refused == 0)
    }

    @Test func quizAnswersArePendingSyncedRefusedAdoptedAndPurgedLikeRecords() throws {
        let dir = try temporaryFolder("quiz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RecordStore(dataDirectory: dir)
        let answers = (0..<3).map { i in
            QuizAnswer(kiosk: "host", answeredAtMilliseconds: 1_000 + Int64(i), question: "battery", answer: i == 0 ? .kitchen : .hazardous,
                       right: i != 0, language: .en)
        }
        for a in answers { try store.append(a) }
        try store.append(answers[0])  // stored twice: kept once
        #expect(try store.allQuiz() == answers)
        #expect(try store.pendingCount() == 3)
        #expect(try store.adoptPending(kiosk: "station-1") == 3)
        #expect(try store.pendingQuiz(limit: 10).allSatisfy { $0.kiosk == "station-1" })
        #expect(try store.markRefused(answers[2].id, reason: "bad", atMilliseconds: 5))
        #expect(try store.pendingQuiz(limit: 10).map(\.id) == [answers[0].id, answers[1].id])
        #expect(try store.markSynced([answers[0].id], atMilliseconds: 10) == 1)
        #expect(try store.pendingQuiz(limit: 10).map(\.id) == [answers[1].id])
        #expect(try store.retryRefused() == 1)
        #expect(try store.pendingCount() == 2)
        // Synced ones go after the retention; pending ones never.
        #expect(try store.purgeSynced(nowMilliseconds: 10 + RecordStore.retention.components.seconds * 1000 + 1) == 1)
        #expect(try store.allQuiz().map(\.id) == [answers[1].id, answers[2].id])
        // Reopened: all still there.
        #expect(try RecordStore(dataDirectory: dir).allQuiz().count == 2)
    }

    @Test func stateCountsAndAdoption() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        try store.append(sampleRecord(at: 100, kiosk: "raspberrypi"))
        try store.append(sampleRecord("food", category: .kitchen, at: 200, kiosk: "raspberrypi"))
        try store.append(sampleRecord("food", category: .kitchen, at: 300, kiosk: "raspberrypi"))
        #expect(try store.counts(sinceMilliseconds: 150) == [.kitchen: 2])
        try store.setState(.lastError, "HTTP 500")
        try store.setState(.lastError, "timeout")
        #expect(try store.state(.lastError) == "timeout")
        #expect(try store.adoptPending(kiosk: "station-7") == 3)
        #expect(try store.all().allSatisfy { $0.kiosk == "station-7" })
    }

    @Test func aStoreFromANewerKioskIsRefusedNotDamaged() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let store = try RecordStore(dataDirectory: folder)
            try store.append(sampleRecord())
        }
        let db = try SQLiteConnection(path: folder + "/" + RecordStore.fileName)
        try db.execute("PRAGMA user_version = 99")
        #expect(throws: StoreError.self) { _ = try RecordStore(dataDirectory: folder) }
        try db.execute("PRAGMA user_version = \(RecordStore.migrations.count)")
        #expect(try RecordStore(dataDirectory: folder).all().count == 1)
    }

    @Test func aDamagedTopColumnIsAnErrorNamingTheRecordNotAnEmptyList() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        let stored = try store.append(sampleRecord())
        let db = try SQLiteConnection(path: folder + "/" + RecordStore.fileName)
        try db.execute("UPDATE records SET top = '{not json'")
        let id = stored.id.uuidString.lowercased()
        #expect {
            _ = try store.all()
        } throws: { error in
            "\(error)".hasSuffix("record \(id) is damaged: its top column is not a list of guesses")
        }
        // A guess JSON cannot hold is refused when it is written, and nothing is stored.
        var unstorable = sampleRecord()
        unstorable.top = [.init(label: "glass", p: .nan)]
        #expect(throws: StoreError.self) { _ = try store.append(unstorable) }
        try db.execute("UPDATE records SET top = '[]'")
        #expect(try store.all().count == 1)
    }

    @Test func anUnwritableDataFolderIsAClearError() {
        do {
            _ = try RecordStore(dataDirectory: "/proc/kiosk-cannot-write-here")
            Issue.record("opened a store in /proc")
        } catch {
            #expect(error.reason.contains("cannot create the data folder"))
        }
    }
}

struct PowerLossTests {
    /// The writer is killed with SIGKILL at random moments, 25 times; every record it acknowledged must be in the
    /// store afterwards, in sequence order, and SQLite's integrity check must pass.
    @Test func aWriterKilledMidWriteLosesNoAcknowledgedRecord() throws {
        let writer = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("record-writer")
        let binary = FileManager.default.fileExists(atPath: writer.path) ? writer
            : Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("record-writer")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build record-writer first (swift build)")
        let folder = try temporaryFolder("powerloss")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var acknowledged: [String] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<25 {
            let process = Process()
            process.executableURL = binary
            process.arguments = [folder]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            // Killed at a random moment once it is writing (its first acknowledgement), however slowly it
            // started (under qemu-user emulation a start takes longer than the whole window).
            var first = Data()
            while !first.contains(UInt8(ascii: "\n")) {
                let chunk = pipe.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                first += chunk
            }
            usleep(UInt32.random(in: 0...120_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let output = String(decoding: first + pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            acknowledged += output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                return parts.count == 3 && parts[0] == "ack" ? String(parts[1]) : nil
            }
        }
        #expect(acknowledged.count > 25)
        let db = try SQLiteConnection(path: folder + "/" + RecordStore.fileName)
        var integrity = ""
        try db.prepare("PRAGMA integrity_check").query { row in integrity = row.text(0) }
        #expect(integrity == "ok")
        let stored = try RecordStore(dataDirectory: folder).all()
        let ids = Set(stored.map { $0.id.uuidString.lowercased() })
        let lost = acknowledged.filter { !ids.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged records lost of \(acknowledged.count)")
        #expect(stored.map(\.sequence) == (0..<stored.count).map { Int64($0) + 1 })
    }
}
