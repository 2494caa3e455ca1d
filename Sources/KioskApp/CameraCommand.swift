import ArgumentParser
import Camera
import Imaging
import KioskCore

#if canImport(Glibc)
import Glibc
#endif

struct CameraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "camera", abstract: "Inspect and test the tray camera.",
        subcommands: [CameraListCommand.self, CameraSnapshotCommand.self, CameraStatsCommand.self, CameraRecordCommand.self,
                      CameraBenchCommand.self, CameraCaptureCommand.self])
}

/// How to open the camera, for the camera commands: the device and its controls.
struct CameraOptions: ParsableArguments {
    @Option(name: .long, help: "V4L2 device (for stats also a folder of pictures or a clip to replay).")
    var device = "/dev/video0"

    @OptionGroup var controls: CameraControlOptions

    func settings() throws -> CameraSettings {
        try controls.settings(device: device)
    }
}

/// How a command that takes frames from the camera waits for them.
struct FrameWaitOptions: ParsableArguments {
    @Option(name: .long, help: "Frames to let pass first, so automatic exposure can settle.")
    var skip = 5

    @Option(name: .long, help: "Seconds to wait for each frame.")
    var timeout = 5.0

    var timeoutMilliseconds: Int { Int(timeout * 1000) }

    func validate() throws {
        guard (0...1000).contains(skip) else { throw ValidationError("--skip must be between 0 and 1000") }
        guard (0.1...60).contains(timeout) else { throw ValidationError("--timeout must be between 0.1 and 60 seconds") }
    }
}

/// Capture mode and controls, shared by the camera commands and `kiosk run`. Unset options fall back to the
/// configuration file's `camera` section, then to the defaults (the built-in modes, everything automatic).
struct CameraControlOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Capture mode FORMAT:WxH[@FPS], tried in the order given (default: MJPG:1280x720@30, then YUYV:640x480@30).",
        valueName: "mode"))
    var mode: [String] = []

    @Option(name: .long, help: "Exposure: auto, or a fixed V4L2 absolute exposure (100 µs units) (default auto).")
    var exposure: String?

    @Option(name: .long, help: "White balance: auto, or a colour temperature in kelvin (default auto).")
    var whiteBalance: String?

    @Option(name: .long, help: "Focus: auto, or a fixed V4L2 absolute focus (C920: 0-250, larger is nearer) (default auto).")
    var focus: String?

    /// Camera settings from the options' text, else the configuration file's: modes `FMT:WxH[@FPS]`, and `auto`
    /// or a number for exposure, white balance and focus.
    func settings(device: String, file: KioskConfiguration.Camera = .init()) throws -> CameraSettings {
        var s = CameraSettings(device: device)
        // Errors name where the bad value came from: the option, or the configuration file's key.
        func origin(_ fromCommandLine: Bool, _ option: String, _ key: String) -> (name: String, suffix: String) {
            fromCommandLine ? ("--\(option)", "") : ("camera.\(key)", " (configuration file)")
        }
        let modes = mode.isEmpty ? (file.modes ?? []) : mode
        if !modes.isEmpty {
            let source = origin(!mode.isEmpty, "mode", "modes")
            s.modes = try modes.map { text in
                guard let m = CaptureMode(parsing: text) else {
                    throw fail("\(source.name) \(text): expected FORMAT:WIDTHxHEIGHT[@FPS], e.g. MJPG:1280x720@30\(source.suffix)")
                }
                return m
            }
        }
        func control(_ option: String?, _ fromFile: CameraControl?, _ name: String) throws -> Int? {
            guard let option else { return fromFile?.fixedValue }
            guard let control = CameraControl(parsing: option) else {
                throw fail("--\(name) \(option): expected auto or a whole number from 0 to \(CameraControl.maximum)")
            }
            return control.fixedValue
        }
        s.exposure = try control(exposure, file.exposure, "exposure").map { .manual($0) } ?? .auto
        s.whiteBalance = try control(whiteBalance, file.whiteBalance, "white-balance").map { .kelvin($0) } ?? .auto
        s.focus = try control(focus, file.focus, "focus").map { .fixed($0) } ?? .auto
        return s
    }
}

struct CameraListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List video capture devices with their formats, sizes and frame rates.")

    @Option(name: .long, help: "Only this device.")
    var device: String?

    func run() throws {
        let paths = device.map { [$0] } ?? Self.videoNodes()
        var shown = 0
        for path in paths {
            let camera: V4L2Device
            do {
                camera = try V4L2Device(path: path)
            } catch {
                if device != nil { throw fail(error.description) }
                if case .notACaptureDevice = error { continue }  // metadata and output nodes
                print("\(path): \(error)")
                continue
            }
            shown += 1
            print("\(path): \(camera.card) (\(camera.driver), \(camera.busInfo))")
            for f in camera.formats() {
                let sizes = camera.frameSizes(for: f.format).map { size -> String in
                    guard case .discrete(let w, let h) = size else { return size.description }
                    let rates = camera.frameRates(for: f.format, width: w, height: h)
                    let text = rates.map { $0 == $0.rounded() ? "\(Int($0))" : "\(($0 * 10).rounded() / 10)" }
                    return rates.isEmpty ? size.description : "\(size) (\(text.joined(separator: ", ")) fps)"
                }
                let kind = f.compressed ? ", compressed" : ""
                let usable = f.format.isConvertible ? "" : " [kiosk cannot convert]"
                print("  \(f.format) (\(f.description)\(kind))\(usable): \(sizes.joined(separator: ", "))")
            }
        }
        if shown == 0 { throw fail("no V4L2 capture device found (looked at \(paths.isEmpty ? "/dev/video*" : paths.joined(separator: ", ")))") }
    }

    /// /dev/video0, /dev/video1, … in number order.
    static func videoNodes() -> [String] {
        guard let dir = opendir("/dev") else { return [] }
        defer { closedir(dir) }
        var numbers: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("video"), let n = Int(name.dropFirst(5)) { numbers.append(n) }
        }
        return numbers.sorted().map { "/dev/video\($0)" }
    }
}

struct CameraSnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Capture one frame at full size and save it as a JPEG.")

    @OptionGroup var camera: CameraOptions

    @Option(name: .long, help: "JPEG file to write.")
    var out: String

    @OptionGroup var waiting: FrameWaitOptions

    func run() throws {
        let settings = try camera.settings()
        do {
            let (device, format) = try CameraSetup.openStreaming(settings, logger: .init(label: "kiosk.camera"))
            let converter = FrameConverter()
            let image = try Self.capture(device: device, format: format, converter: converter, skip: waiting.skip,
                                         timeoutMilliseconds: waiting.timeoutMilliseconds)
            device.stopStreaming()
            let jpeg = try JPEGEncoder().encode(image, quality: 92, destination: out)
            try AtomicFile.write(jpeg, to: out)
            print("\(out): \(image.width)x\(image.height) from \(settings.device) (\(format))")
        } catch let error as CameraError {
            throw fail(error.description)
        } catch let error as FileWriteError {
            throw fail(error.description)
        } catch let error as ImageError {
            throw fail(error.description)
        }
    }
}

extension CameraSnapshotCommand {
    /// The first good frame after `skip` frames; a few corrupt frames are tolerated.
    static func capture(device: V4L2Device, format: NegotiatedFormat, converter: FrameConverter, skip: Int,
                        timeoutMilliseconds: Int) throws(CameraError) -> RGBImage {
        var seen = 0
        var corrupt = 0
        while true {
            seen += 1
            let take = seen > skip
            let result: RGBImage?
            do {
                result = try device.withNewestFrame(timeoutMilliseconds: timeoutMilliseconds) {
                    (buffer) throws(CameraError) -> RGBImage? in
                    take ? try converter.rgb(from: buffer.bytes, format: format, minimumShorterSide: nil,
                                             device: device.path) : nil
                }
            } catch {
                guard case .badFrame = error, corrupt < 10 else { throw error }
                corrupt += 1
                continue
            }
            if let result { return result }
        }
    }
}

struct CameraStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Capture for a while and report frame rate, drops and decode time.")

    @OptionGroup var camera: CameraOptions

    @Option(name: .long, help: "How long to capture.")
    var seconds = 5.0

    @Option(name: .long, help: "Shorter side frames are converted at (the preview's size); 0 for full size.")
    var frameSide = 360

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        var settings = try camera.settings()
        settings.frameShorterSide = frameSide > 0 ? frameSide : nil
        let source: any FrameSource
        if ReplayFrameSource.canPlay(settings.device) {
            do {
                source = try ReplayFrameSource(path: settings.device, frameShorterSide: settings.frameShorterSide)
            } catch {
                throw fail(error.description)
            }
        } else {
            source = V4L2Camera(settings: settings)
        }
        let cpuBefore = Self.cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        source.start()
        var last: UInt64?
        var frameSize = ""
        while clock.now - start < .seconds(seconds) {
            if let frame = source.nextFrame(after: last, timeout: .milliseconds(200)) {
                last = frame.sequence
                frameSize = "\(frame.image.width)x\(frame.image.height)"
            }
        }
        let status = source.status
        let stats = source.statistics
        source.stop()
        let elapsed = clock.now - start
        let wall = elapsed.milliseconds / 1000
        let cpuShare = (Self.cpuSeconds() - cpuBefore) / wall
        func ms(_ d: Duration) -> Double { (d.milliseconds * 100).rounded() / 100 }
        if json {
            print("{\"device\":\(JSONText.string(settings.device)),\"status\":\(JSONText.string(status.description)),"
                  + "\"frame\":\(JSONText.string(frameSize)),\"delivered\":\(stats.delivered),"
                  + "\"fps\":\(JSONText.number(stats.framesPerSecond)),\"dropped\":\(stats.dropped),"
                  + "\"corrupt\":\(stats.corrupt),\"reconnects\":\(stats.reconnects),"
                  + "\"convert_ms_mean\":\(ms(stats.meanConversion)),\"convert_ms_max\":\(ms(stats.conversionMaximum)),"
                  + "\"cpu_cores\":\(JSONText.number(cpuShare))}")
        } else {
            print("device: \(settings.device)")
            print("status: \(status.description)")
            print("frames: \(stats.delivered) delivered (\(frameSize)), \(String(format: "%.2f", stats.framesPerSecond)) fps, \(stats.dropped) dropped, \(stats.corrupt) corrupt, \(stats.reconnects) reconnects")
            print("conversion: mean \(ms(stats.meanConversion)) ms, max \(ms(stats.conversionMaximum)) ms")
            print("cpu: \(String(format: "%.2f", cpuShare * 100))% of one core")
        }
        if stats.delivered == 0 { throw fail("no frames in \(seconds) s: \(status.description)") }
    }

    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
