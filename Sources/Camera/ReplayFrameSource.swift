import Imaging
import KioskCore
import Logging

/// Frames from a folder of pictures (JPEG/PNG, in name order) or a recorded MJPEG clip (`kiosk camera record`),
/// looped at a set rate: the demo's camera and the tests'. It behaves like the camera: its own thread, newest
/// frame wins, a status.
public final class ReplayFrameSource: CaptureLoopSource {
    /// The folder's pictures, in the order they play; empty for a clip.
    public var pictures: [String] {
        if case .pictures(let paths) = reel { paths } else { [] }
    }
    /// Pictures or clip frames that play in turn.
    public var itemCount: Int { reel.count }
    private let reel: ReplayReel
    public let framesPerSecond: Double
    public let frameShorterSide: Int?
    /// Frames each picture is shown for before the next (1: a new picture every frame).
    public let framesPerPicture: Int
    private let label: String
    let loop: CaptureLoop
    private let logger: Logger

    /// - Parameters:
    ///   - path: a folder (its pictures in name order), one picture, or a clip (`.mjpeg`, `.mjpg`).
    ///   - holdEach: how long each picture stays before the next (zero: the next picture every frame); the demo
    ///     holds each for a few seconds like an item lying on the tray.
    /// - Throws: `CameraError.noDevice` when the path does not exist or holds no picture, `.badClip` for a clip
    ///   that is not JPEG frames back to back.
    ///   - clock: what the replay thread waits on (tests move time by hand; frames keep real capture times).
    public init(path: String, framesPerSecond: Double = 30, frameShorterSide: Int? = 360, holdEach: Duration = .zero,
                logger: Logger = Logger(label: "kiosk.camera"), clock: any WorkerClock = .system) throws(CameraError) {
        loop = CaptureLoop(clock: clock)
        reel = try ReplayReel(path: path)
        label = path
        self.framesPerSecond = max(0.1, framesPerSecond)
        framesPerPicture = max(1, Int((holdEach / .seconds(1)) * max(0.1, framesPerSecond)))
        self.frameShorterSide = frameShorterSide
        self.logger = logger
    }

    deinit { loop.stop() }

    /// Whether `path` is something to replay (a clip, a picture, a folder with pictures) rather than a device.
    public static func canPlay(_ path: String) -> Bool {
        MJPEGClip.isClip(path) || !ImageFiles.list(path).isEmpty
    }

    public func start() {
        let (reel, label, logger) = (self.reel, self.label, self.logger)
        let interval = Duration.seconds(1 / framesPerSecond)
        let side = frameShorterSide
        let framesPerPicture = self.framesPerPicture
        loop.start(device: label) { mailbox in
            let clock = ContinuousClock()
            var sequence: UInt64 = 0
            var next = clock.now
            var index = 0
            mailbox.status = .streaming(device: label, format: reel.description)
            let jpeg = JPEGDecoder()
            var unusable = Set<Int>()
            var held: (image: RGBImage, left: Int)?
            while !mailbox.isStopping {
                if let (image, left) = held, left > 0 {
                    held = (image, left - 1)
                    sequence += 1
                    let now = clock.now
                    mailbox.publish(Frame(image: image, sequence: sequence, capturedAt: now)) { s in
                        s.delivered += 1
                        s.lastFrameAt = now
                    }
                    next += interval
                    let wait = next - clock.now
                    if wait < .zero { next = clock.now } else if !mailbox.pause(for: wait) { break }
                    continue
                }
                if unusable.count == reel.count {
                    mailbox.status = .failed(device: label, reason: "none of its \(reel.count) pictures or frames can be decoded")
                    _ = mailbox.pause(for: .seconds(3600 * 24 * 365))
                    break
                }
                let slot = index % reel.count
                index += 1
                if unusable.contains(slot) { continue }
                let started = clock.now
                do {
                    let image = try reel.decode(slot, side: side, jpeg: jpeg)
                    held = (image, framesPerPicture - 1)
                    sequence += 1
                    let now = clock.now
                    mailbox.publish(Frame(image: image, sequence: sequence, capturedAt: now)) { s in
                        s.delivered += 1
                        s.conversionTotal += now - started
                        s.conversionMaximum = max(s.conversionMaximum, now - started)
                        if s.firstFrameAt == nil { s.firstFrameAt = now }
                        s.lastFrameAt = now
                    }
                } catch {
                    // Skipped from now on, and said once.
                    unusable.insert(slot)
                    mailbox.updateStatistics { $0.corrupt += 1 }
                    logger.warning("replay picture skipped", metadata: ["error": "\(error)"])
                    continue
                }
                next += interval
                let wait = next - clock.now
                if wait < .zero { next = clock.now } else if !mailbox.pause(for: wait) { break }
            }
            mailbox.status = .stopped
        }
    }
}
