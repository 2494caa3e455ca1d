import Foundation
import Imaging
import KioskCore
import Logging
import Synchronization

/// Stores finished scans on its own thread, so a slow or failing disk never blocks the screen. Records wait in
/// memory, in order, until the store has them: a failing store is reopened with backoff and nothing is dropped
/// while the process runs. Also keeps today's counts per bin for the Ready screen.
public final class RecordWriter: Sendable {
    public enum Health: Sendable, Equatable {
        case starting
        case ok
        case failing(String)
    }

    public struct Snapshot: Sendable, Equatable {
        public var health: Health
        public var todayCounts: [WasteCategory: Int]
        /// Records handed over but not yet stored.
        public var waiting: Int
        /// Records stored since start.
        public var stored: Int
    }

    /// A record waiting to be stored: a scan, with the frame its thumbnail is made from (when thumbnails are
    /// on), a quiz answer, or a field photo with the frame its picture is made from.
    private enum Pending: Sendable {
        case scan(ScanRecord, thumbnailSource: RGBImage?)
        case quiz(QuizAnswer)
        case photo(FieldPhoto, source: RGBImage)

        var category: WasteCategory? {
            if case .scan(let record, _) = self { return record.category }
            return nil
        }
    }

    private struct Shared {
        var queue: [Pending] = []
        var snapshot = Snapshot(health: .starting, todayCounts: [:], waiting: 0, stored: 0)
    }

    private let open: @Sendable () throws -> any ScanRecordSink
    /// The most field photos the store keeps waiting for the server.
    public let fieldPhotoLimit: Int
    private let startOfDay: @Sendable () -> Int64
    private let didStore: @Sendable () -> Void
    private let logger: Logger
    private let shared = Mutex(Shared())
    private let worker: BackgroundWorker

    /// - Parameters:
    ///   - open: opens the store; called on the writer's thread (again after a failure).
    ///   - startOfDay: local midnight in milliseconds since 1970, for today's counts.
    ///   - didStore: called after records were stored (wakes the sync).
    ///   - clock: what the writer waits on between attempts (tests move time by hand).
    public init(logger: Logger = Logger(label: "kiosk.records"), clock: any WorkerClock = .system,
                startOfDay: @escaping @Sendable () -> Int64, didStore: @escaping @Sendable () -> Void = {},
                fieldPhotoLimit: Int = 2000, open: @escaping @Sendable () throws -> any ScanRecordSink) {
        worker = BackgroundWorker(clock: clock)
        self.fieldPhotoLimit = fieldPhotoLimit
        self.open = open
        self.startOfDay = startOfDay
        self.didStore = didStore
        self.logger = logger
    }

    public var snapshot: Snapshot { shared.withLock { $0.snapshot } }

    /// Queues a record; with `thumbnailFrom`, a 96 px JPEG of that frame is made on the writer's thread and kept
    /// in the record.
    public func submit(_ record: ScanRecord, thumbnailFrom image: RGBImage? = nil) {
        let failing = shared.withLock { s in
            s.queue.append(.scan(record, thumbnailSource: image))
            s.snapshot.waiting = s.queue.count
            // Counted at once so the Ready screen is right even before the disk write finishes.
            s.snapshot.todayCounts[record.category, default: 0] += 1
            if case .failing = s.snapshot.health { return true }
            return false
        }
        // While the store fails, the retry schedule decides; new records must not hurry it into a faster backoff.
        if !failing { worker.wake() }
    }

    /// Queues a quiz answer, stored in order with the scans.
    public func submit(_ answer: QuizAnswer) {
        let failing = shared.withLock { s in
            s.queue.append(.quiz(answer))
            s.snapshot.waiting = s.queue.count
            if case .failing = s.snapshot.health { return true }
            return false
        }
        if !failing { worker.wake() }
    }

    /// Queues a field photo; its picture (the model's region of `image`, 224 px JPEG) is made on the writer's
    /// thread. Skipped, with one log line, when the store already keeps as many as it may.
    public func submit(_ photo: FieldPhoto, from image: RGBImage) {
        let failing = shared.withLock { s in
            s.queue.append(.photo(photo, source: image))
            s.snapshot.waiting = s.queue.count
            if case .failing = s.snapshot.health { return true }
            return false
        }
        if !failing { worker.wake() }
    }

    public func start() {
        worker.start { [self] in self.run() }
    }

    /// Stops after one last attempt to store what is waiting; returns how many records could not be stored.
    @discardableResult
    public func stop() -> Int {
        worker.stop()
        return snapshot.waiting
    }

    private func run() {
        var sink: (any ScanRecordSink)?
        var backoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10))
        var countedAt: ContinuousClock.Instant?
        let clock = worker.clock
        let encoder = JPEGEncoder()
        while true {
            let stopping = worker.isStopping
            if sink == nil {
                do {
                    sink = try open()
                } catch {
                    fail("\(error)")
                    if stopping { break }
                    _ = worker.wait(for: backoff.next())
                    continue
                }
            }
            var wrote = false
            var failed = false
            while let pending = shared.withLock({ $0.queue.first }) {
                do {
                    switch pending {
                    case .scan(var record, let image):
                        if let image, record.thumbnail == nil {
                            let small = Resampler.resizeShorterSide(image, to: 96)
                            record.thumbnail = (try? encoder.encode(small, quality: 75, destination: "thumbnail")).map { Data($0) }
                        }
                        _ = try sink!.append(record)
                    case .quiz(let answer):
                        try sink!.append(answer)
                    case .photo(var photo, let image):
                        if let jpeg = try? FieldPhotoImage.jpeg(of: image, encoder: encoder) {
                            photo.jpeg = Data(jpeg)
                            if try !sink!.append(photo, limit: fieldPhotoLimit) {
                                logger.warning("field photo not kept: \(fieldPhotoLimit) already wait for the server")
                            }
                        }
                    }
                    wrote = true
                    shared.withLock { s in
                        s.queue.removeFirst()
                        s.snapshot.waiting = s.queue.count
                        s.snapshot.stored += 1
                    }
                } catch {
                    // Keep the record at the head of the queue; reopen the store next time.
                    fail("\(error)")
                    sink = nil
                    failed = true
                    break
                }
            }
            if wrote { didStore() }
            if !failed, let current = sink, wrote || countedAt.map({ clock.now - $0 > .seconds(30) }) ?? true {
                do {
                    let counts = try current.counts(sinceMilliseconds: startOfDay())
                    shared.withLock { s in
                        // Under one lock with the queue, so a record submitted meanwhile is neither lost nor counted twice.
                        let waiting = s.queue.reduce(into: [WasteCategory: Int]()) { counts, pending in
                            if let category = pending.category { counts[category, default: 0] += 1 }
                        }
                        s.snapshot.todayCounts = counts.merging(waiting, uniquingKeysWith: +)
                        if s.snapshot.health != .ok { logger.info("record store ok") }
                        s.snapshot.health = .ok
                    }
                    countedAt = clock.now
                    backoff.reset()
                } catch {
                    fail("\(error)")
                    sink = nil
                    failed = true
                }
            }
            if stopping { break }
            _ = worker.wait(for: failed ? backoff.next() : .seconds(5))
        }
        let lost = snapshot.waiting
        if lost > 0 { logger.error("\(lost) records could not be stored before stopping") }
    }

    private func fail(_ reason: String) {
        shared.withLock { s in
            if s.snapshot.health != .failing(reason) { logger.error("record store failing: \(reason)") }
            s.snapshot.health = .failing(reason)
        }
    }
}
