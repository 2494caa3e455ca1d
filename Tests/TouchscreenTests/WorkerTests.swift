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

    func append(_ answer: QuizAnswer) throws {
        if Self.broken.withLock({ $0 }) { throw HarnessError("disk I/O error (injected)") }
        try store.append(answer)
    }

    func append(_ photo: FieldPhoto, limit: Int) throws -> Bool {
        if Self.broken.withLock({ $0 }) { throw HarnessError("disk I/O error (injected)") }
        return try store.append(photo, limit: limit)
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

    /// Lets the worker run until it next goes to sleep on `clock` (it finished a pass), as often as it takes for
    /// `condition` to hold; each pass is a real event, never a timed poll.
    func wait(_ what: String, on clock: ManualWorkerClock, sourceLocation: SourceLocation = #_sourceLocation,
              _ condition: () -> Bool) {
        let seen = clock.waitForPasses(upTo: 50, until: condition)
        #expect(seen, "\(what) not seen", sourceLocation: sourceLocation)
    }

    @Test func recordsWaitInOrderWhileTheStoreFailsAndNoneIsLost() throws {
        let dir = NSTemporaryDirectory() + "writer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FlakyStore.broken.withLock { $0 = false }
        let clock = ManualWorkerClock()
        let writer = RecordWriter(clock: clock, startOfDay: { 0 }) { try FlakyStore(dataDirectory: dir) }
        writer.start()
        writer.submit(record(0))
        wait("the first record", on: clock) { writer.snapshot.stored == 1 && writer.snapshot.health == .ok }

        FlakyStore.broken.withLock { $0 = true }
        for n in 1...20 { writer.submit(record(n, n % 2 == 0 ? .kitchen : .recyclable)) }
        wait("the failure to show", on: clock) { if case .failing = writer.snapshot.health { true } else { false } }
        #expect(writer.snapshot.waiting == 20)
        // Counted for the Ready screen although not stored yet.
        #expect(writer.snapshot.todayCounts[.kitchen] == 10)
        #expect(writer.snapshot.todayCounts[.recyclable] == 11)
        // While it fails, it retries on its backoff (500 ms doubling to 10 s): each retry fails, nothing is lost.
        writer.submit(record(21))
        for _ in 0..<3 {
            let before = clock.sleeps
            clock.advance(by: .seconds(10))
            #expect(clock.waitForSleep(after: before) > before, "a retry after the backoff")
        }
        #expect(writer.snapshot.waiting == 21 && writer.snapshot.stored == 1)

        FlakyStore.broken.withLock { $0 = false }
        clock.advance(by: .seconds(10))
        wait("recovery", on: clock) { writer.snapshot.stored == 22 && writer.snapshot.health == .ok }
        #expect(writer.stop() == 0)
        let stored = try RecordStore(dataDirectory: dir).all()
        #expect(stored.map(\.capturedAtMilliseconds) == (0...21).map { 1_700_000_000_000 + Int64($0) })
        #expect(stored.map(\.sequence) == Array(1...22))
        #expect(writer.snapshot.todayCounts == [.recyclable: 12, .kitchen: 10])
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
        let clock = ManualWorkerClock()
        let worker = InferenceWorker(retryInterval: .seconds(10), clock: clock) {
            guard present.withLock({ $0 }) else { throw HarnessError("no model installed (test)") }
            let classifier = try ImageClassifier(modelPath: model, backend: .int8, threads: 1)
            return LoadedModel(classifier: classifier, version: String(classifier.model!.checksum.prefix(16)))
        }
        let answered = Mutex(0)
        worker.onAnswer { answered.withLock { $0 += 1 } }
        worker.start()
        defer { worker.stop() }
        wait("the model to be missing", on: clock) { worker.status == .unavailable(reason: "no model installed (test)") }
        let image = try ImageDecoder.decode(file: ScreenHarness.fixtures + "/glass.jpg", minimumShorterSide: 360)
        // A scan while there is no model fails at once, with the reason.
        worker.submit(ScanID(1), image)
        wait("the failed answer", on: clock) { answered.withLock { $0 } == 1 }
        let failed = worker.takeAnswers()
        #expect(failed.count == 1)
        if case .failure(let f) = failed.first?.result { #expect(f.description.contains("no model")) } else { Issue.record("expected a failure") }

        // Installed, it is loaded on the next retry, not before.
        present.withLock { $0 = true }
        #expect(worker.status == .unavailable(reason: "no model installed (test)"))
        clock.advance(by: .seconds(10))
        wait("the model", on: clock) { if case .ready = worker.status { true } else { false } }
        worker.submit(ScanID(2), image)
        wait("the answer", on: clock) { answered.withLock { $0 } == 2 }
        let answers = worker.takeAnswers()
        let expected = try ImageClassifier(modelPath: model, backend: .int8, threads: 1).classify(image)
        #expect(answers.count == 1)
        #expect(answers.first?.scan == ScanID(2))
        #expect((try? answers.first?.result.get())?.top.label == expected.top.label)
        #expect((answers.first?.inference ?? .zero) > .zero)
    }
}
