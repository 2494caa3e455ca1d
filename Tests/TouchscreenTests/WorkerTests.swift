import Foundation
import Imaging
import Inference
import KioskCore
import Screens
import Sync
import Synchronization
import Testing
import Touchscreen

/// A real record store that can be made to fail, like a disk that is full or pulled.
final class FlakyStore: ScanRecordSink {
    static let broken = Mutex(false)
    let store: RecordStore

    init(dataDirectory: String) throws {
        if Self.broken.withLock({ $0 }) { throw HarnessError("disk I/O error (injected)") }
        store = try RecordStore(dataDirectory: dataDirectory)
    }

    func append(_ record: ScanRecord) throws -> ScanRecord {
        if Self.broken.withLock({ $0 }) { throw HarnessError("disk I/O error (injected)") }
        return try store.append(record)
    }

    func counts(sinceMilliseconds since: Int64) throws -> [WasteCategory: Int] {
        try store.counts(sinceMilliseconds: since)
    }
}

@Suite(.serialized) struct WorkerTests {
    func record(_ n: Int, _ category: WasteCategory = .recyclable) -> ScanRecord {
        ScanRecord(kiosk: "k", capturedAtMilliseconds: 1_700_000_000_000 + Int64(n), label: "glass", category: category,
                   confidence: 0.9, top: [.init(label: "glass", p: 0.9)], modelVersion: "v", language: .zh)
    }

    func wait(_ what: String, timeout: Duration = .seconds(20), _ condition: () -> Bool) {
        let deadline = ContinuousClock.now + timeout
        while !condition() && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(condition(), "timed out waiting for \(what)")
    }

    @Test func recordsWaitInOrderWhileTheStoreFailsAndNoneIsLost() throws {
        let dir = NSTemporaryDirectory() + "writer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FlakyStore.broken.withLock { $0 = false }
        let writer = RecordWriter(startOfDay: { 0 }) { try FlakyStore(dataDirectory: dir) }
        writer.start()
        writer.submit(record(0))
        wait("the first record") { writer.snapshot.stored == 1 }
        #expect(writer.snapshot.health == .ok)

        FlakyStore.broken.withLock { $0 = true }
        for n in 1...20 { writer.submit(record(n, n % 2 == 0 ? .kitchen : .recyclable)) }
        wait("the failure to show") { if case .failing = writer.snapshot.health { true } else { false } }
        #expect(writer.snapshot.waiting == 20)
        // Counted for the Ready screen although not stored yet.
        #expect(writer.snapshot.todayCounts[.kitchen] == 10)
        #expect(writer.snapshot.todayCounts[.recyclable] == 11)

        FlakyStore.broken.withLock { $0 = false }
        wait("recovery") { writer.snapshot.stored == 21 && writer.snapshot.health == .ok }
        #expect(writer.stop() == 0)
        let stored = try RecordStore(dataDirectory: dir).all()
        #expect(stored.map(\.capturedAtMilliseconds) == (0...20).map { 1_700_000_000_000 + Int64($0) })
        #expect(stored.map(\.sequence) == Array(1...21))
        #expect(writer.snapshot.todayCounts == [.recyclable: 11, .kitchen: 10])
    }

    @Test func stoppingReportsWhatCouldNotBeStored() throws {
        FlakyStore.broken.withLock { $0 = true }
        defer { FlakyStore.broken.withLock { $0 = false } }
        let writer = RecordWriter(startOfDay: { 0 }) { try FlakyStore(dataDirectory: "/nonexistent") }
        writer.start()
        writer.submit(record(1))
        writer.submit(record(2))
        #expect(writer.stop() == 2)
    }

    @Test func theEngineLoadsWhenTheModelAppearsAndAnswersOnItsThread() throws {
        let present = Mutex(false)
        let model = ScreenHarness.model
        let worker = InferenceWorker(retryInterval: .milliseconds(100)) {
            guard present.withLock({ $0 }) else { throw HarnessError("no model installed (test)") }
            let classifier = try ImageClassifier(modelPath: model, backend: .int8, threads: 1)
            return LoadedModel(classifier: classifier, version: String(classifier.model!.checksum.prefix(16)))
        }
        let answered = Mutex(0)
        worker.onAnswer { answered.withLock { $0 += 1 } }
        worker.start()
        defer { worker.stop() }
        wait("the model to be missing") { worker.status == .unavailable(reason: "no model installed (test)") }
        let image = try ImageDecoder.decode(file: ScreenHarness.fixtures + "/glass.jpg", minimumShorterSide: 360)
        // A scan while there is no model fails at once, with the reason.
        worker.submit(ScanID(1), image)
        wait("the failed answer") { answered.withLock { $0 } == 1 }
        let failed = worker.takeAnswers()
        #expect(failed.count == 1)
        if case .failure(let f) = failed.first?.result { #expect(f.description.contains("no model")) } else { Issue.record("expected a failure") }

        present.withLock { $0 = true }
        wait("the model") { if case .ready = worker.status { true } else { false } }
        worker.submit(ScanID(2), image)
        wait("the answer") { answered.withLock { $0 } == 2 }
        let answers = worker.takeAnswers()
        let expected = try ImageClassifier(modelPath: model, backend: .int8, threads: 1).classify(image)
        #expect(answers.count == 1)
        #expect(answers.first?.scan == ScanID(2))
        #expect((try? answers.first?.result.get())?.top.label == expected.top.label)
        #expect((answers.first?.inference ?? .zero) > .zero)
    }
}
