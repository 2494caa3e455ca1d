import ArgumentParser
import Camera
import Imaging
import KioskCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM during a recording: stop early and keep what was recorded.
private let recordingInterrupted = Atomic<Bool>(false)

/// `kiosk camera record`: a clip of the tray, to replay later as the camera (`kiosk run --camera F.mjpeg`,
/// `kiosk camera stats --device F.mjpeg`), e.g. real items under a station's own light for a demo or a test.
struct CameraRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record a clip (MJPEG: JPEG frames back to back) to replay as the camera later.",
        discussion: "MJPEG frames are kept as the camera sent them; other formats are converted and encoded as JPEG. "
            + "Ctrl-C ends the recording early and keeps the clip so far.")

    @OptionGroup var camera: CameraOptions

    @Option(name: .long, help: "Clip to write (.mjpeg or .mjpg); it appears only once complete.")
    var out: String

    @Option(name: .long, help: "How long to record, in seconds (at most 3600).")
    var seconds = 10.0

    @OptionGroup var waiting: FrameWaitOptions

    func validate() throws {
        guard MJPEGClip.isClip(out) else { throw ValidationError("--out \(out): a clip's name ends in .mjpeg or .mjpg") }
        guard (0.1...3600).contains(seconds) else { throw ValidationError("--seconds must be between 0.1 and 3600") }
    }

    func run() throws {
        let settings = try camera.settings()
        do {
            let (device, format) = try CameraSetup.openStreaming(settings, logger: .init(label: "kiosk.camera"))
            defer { device.stopStreaming() }
            let writer = try AtomicFileWriter(path: out)
            let recorder = ClipRecorder(format: format, device: settings.device)
            for sig in [SIGINT, SIGTERM] { signal(sig) { _ in recordingInterrupted.store(true, ordering: .relaxed) } }
            let clock = ContinuousClock()
            var seen = 0
            var start: ContinuousClock.Instant?
            while !recordingInterrupted.load(ordering: .relaxed), start.map({ clock.now - $0 < .seconds(seconds) }) ?? true {
                seen += 1
                let keep = seen > waiting.skip
                if keep && start == nil { start = clock.now }
                let frame: [UInt8]?
                do {
                    frame = try device.withNewestFrame(timeoutMilliseconds: waiting.timeoutMilliseconds) { buffer in
                        keep ? recorder.frame(from: buffer.bytes, skippedBefore: buffer.skippedBefore) : nil
                    }
                } catch {
                    // The signal interrupts the wait for a frame; anything else is the camera failing.
                    if case .timeout = error, recordingInterrupted.load(ordering: .relaxed) { break }
                    throw error
                }
                if let frame {
                    try writer.append(frame)
                }
            }
            let elapsed = start.map { clock.now - $0 } ?? .zero
            guard recorder.frames > 0 else { throw fail("\(settings.device): no usable frame in \(seconds) s (\(recorder.corrupt) corrupt)") }
            try writer.commit()
            let rate = Double(recorder.frames) / max(0.001, elapsed.milliseconds / 1000)
            print("\(out): \(recorder.frames) frames \(format.width)x\(format.height) at \(String(format: "%.1f", rate)) fps from "
                  + "\(settings.device) (\(format)), \(recorder.bytes / 1024) KiB"
                  + (recorder.corrupt > 0 ? ", \(recorder.corrupt) corrupt frames left out" : "")
                  + (recorder.skipped > 0 ? ", \(recorder.skipped) frames skipped while writing" : ""))
        } catch let error as CameraError {
            throw fail(error.description)
        } catch let error as FileWriteError {
            throw fail(error.description)
        }
    }
}

/// Turns camera buffers into clip frames: MJPEG as sent (up to its end marker: drivers may pad the buffer),
/// anything else converted at full size and encoded as JPEG.
final class ClipRecorder {
    let format: NegotiatedFormat
    let device: String
    private let converter = FrameConverter()
    private let encoder = JPEGEncoder()
    private(set) var frames = 0
    private(set) var corrupt = 0
    private(set) var skipped = 0
    private(set) var bytes = 0

    init(format: NegotiatedFormat, device: String) {
        self.format = format
        self.device = device
    }

    /// The clip frame for a camera buffer; nil (and counted) for a frame that cannot be used.
    func frame(from buffer: UnsafeRawBufferPointer, skippedBefore: Int) -> [UInt8]? {
        skipped += skippedBefore
        let frame: [UInt8]
        switch format.format {
        case .mjpeg, .jpeg:
            // A frame cut short or garbled on the USB link is left out, like the live picture leaves it out.
            guard let length = try? MJPEGClip.frameLength(buffer, path: device) else {
                corrupt += 1
                return nil
            }
            frame = Array(buffer[0..<length])
        default:
            do {
                let image = try converter.rgb(from: buffer, format: format, minimumShorterSide: nil, device: device)
                frame = try encoder.encode(image, quality: 90, destination: device)
            } catch {
                corrupt += 1
                return nil
            }
        }
        frames += 1
        bytes += frame.count
        return frame
    }
}
