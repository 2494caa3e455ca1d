import Camera
import Foundation
import KioskCore
import Testing

struct ReplayFrameSourceTests {
    @Test func replaysAFolderInOrderAndLoops() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: fixture("glass1.jpg"), toPath: folder + "/a.jpg")
        try FileManager.default.copyItem(atPath: fixture("alpha64x48.png"), toPath: folder + "/b.png")
        try Data("not a picture".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))

        let source = try ReplayFrameSource(path: folder, framesPerSecond: 200, frameShorterSide: nil)
        #expect(source.pictures.map { ($0 as NSString).lastPathComponent } == ["a.jpg", "b.png"])
        source.start()
        var sizes: [String] = []
        var last: UInt64?
        while sizes.count < 5, let frame = source.nextFrame(after: last, timeout: .seconds(5)) {
            if let last { #expect(frame.sequence > last) }
            last = frame.sequence
            sizes.append("\(frame.image.width)x\(frame.image.height)")
        }
        #expect(source.status.isStreaming)
        source.stop()
        #expect(source.status == .stopped)
        #expect(sizes.count == 5)
        // Both pictures show up, whichever frames a slow reader happened to see.
        #expect(Set(sizes) == ["512x384", "64x48"])
        #expect(source.statistics.delivered >= 5)
    }

    @Test func aFolderWithoutPicturesIsNoDevice() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: CameraError.noDevice(device: folder)) { _ = try ReplayFrameSource(path: folder) }
        #expect(throws: CameraError.noDevice(device: folder + "/missing")) { _ = try ReplayFrameSource(path: folder + "/missing") }
    }

    @Test func onlyUndecodablePicturesMeanFailedStatusNotACrash() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: fixture("truncated.jpg"), toPath: folder + "/broken.jpg")
        let clock = ManualWorkerClock()
        let source = try ReplayFrameSource(path: folder, framesPerSecond: 100, clock: clock)
        source.start()
        // Having tried every picture, the replay thread says so and waits (on the clock) to be stopped.
        #expect(clock.waitForSleep(after: 0) == 1)
        if case .failed = source.status {} else { Issue.record("status \(source.status)") }
        #expect(source.latestFrame() == nil)
        source.stop()
        #expect(source.status == .stopped)
    }
}

struct V4L2CameraTests {
    /// No camera on this machine: the loop must say so, keep retrying and stop cleanly.
    @Test func aMissingDeviceIsAStatusAndStopIsPrompt() {
        let clock = ManualWorkerClock()
        let camera = V4L2Camera(settings: CameraSettings(device: "/dev/video-kiosk-test-missing",
                                                         reconnectInitial: .milliseconds(20), reconnectMaximum: .milliseconds(50)),
                                clock: clock)
        camera.start()
        // It tried, said so, and waits out its backoff; each backoff step passed tries again.
        #expect(clock.waitForSleep(after: 0) == 1)
        #expect(camera.status == .noDevice(device: "/dev/video-kiosk-test-missing"))
        for tries in 2...4 {
            clock.advance(by: .milliseconds(50))
            #expect(clock.waitForSleep(after: tries - 1) == tries)
            #expect(camera.status == .noDevice(device: "/dev/video-kiosk-test-missing"))
        }
        #expect(camera.nextFrame(after: nil, timeout: .milliseconds(100)) == nil)
        // Stopping ends the backoff's sleep at once, though the test's clock never reaches its end.
        let wall = ContinuousClock()
        let stopping = wall.now
        camera.stop()
        #expect(wall.now - stopping < .seconds(2))
        #expect(camera.status == .stopped)
    }

    @Test func aFileThatIsNotAV4L2DeviceIsReportedAsSuch() throws {
        do {
            _ = try V4L2Device(path: fixture("glass1.jpg"))
            Issue.record("opened a JPEG as a camera")
        } catch {
            guard case CameraError.notACaptureDevice = error else { Issue.record("wrong error \(error)"); return }
        }
    }
}

struct BackoffTests {
    struct Counter: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    @Test func growsToItsCapWithJitterAndResets() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), jitter: 0.5)
        var g = Counter(state: 42)
        let delays = (0..<8).map { _ in backoff.next(using: &g) }
        let bases: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
                                 .milliseconds(1600), .seconds(2), .seconds(2), .seconds(2)]
        for (d, base) in zip(delays, bases) {
            #expect(d <= base && d >= base / 2, "\(d) outside [\(base / 2), \(base)]")
        }
        #expect(Set(delays.map { $0.components.attoseconds }).count > 4)  // jittered, not constant
        backoff.reset()
        #expect(backoff.next(using: &g) <= .milliseconds(100))
    }
}
