import ArgumentParser
import Camera
import Foundation
import Inference
import KioskCore
import Sync

#if canImport(Glibc)
import Glibc
#endif

/// `kiosk selftest`: what a technician pastes into a report from the device. Each line is measured here and now;
/// what this machine cannot measure (no camera, no thermal sensor) says so on its line instead of a number.
struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest",
        abstract: "Measure this device for a report: engine latency at 1-4 threads (the installed model and a 224 px ResNet50), model load time, camera mode and fps, screen frame times while the engine runs, memory, CPU temperature and throttling.")

    @Option(name: .long, help: "Timed forward passes per thread count.")
    var runs = 5

    @Option(name: .long, help: "Camera device to measure.")
    var device = "/dev/video0"

    @Option(name: .long, help: "Seconds of capture for the camera's fps.")
    var cameraSeconds = 3.0

    @Option(name: .long, help: "Scans for the screen's frame times while the engine runs (0: skip the screen).")
    var screenScans = 5

    @Option(name: .long, help: "Model file (default: the installed one).")
    var model: String?

    @Flag(name: .long, help: "One JSON object instead of lines.")
    var json = false

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be between 1 and 100, not \(runs)") }
        guard (0.5...60).contains(cameraSeconds) else { throw ValidationError("--camera-seconds must be between 0.5 and 60") }
        guard (0...50).contains(screenScans) else { throw ValidationError("--screen-scans must be between 0 and 50, not \(screenScans)") }
    }

    /// One timed configuration of the engine.
    struct Timing: Encodable {
        var model: String
        var side: Int
        var threads: Int
        var loadMilliseconds: Double
        var minMilliseconds: Double
        var medianMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case model, side, threads
            case loadMilliseconds = "load_ms", minMilliseconds = "min_ms", medianMilliseconds = "median_ms"
        }
    }

    struct Report: Encodable {
        var app = AppVersion.current
        var machine = ""
        var cpu = ""
        var cores = 0
        var memoryMiB = 0
        var model: String?
        var modelVersion: String?
        var engine: [Timing] = []
        var engineError: String?
        var camera = ""
        var cameraMode: String?
        var cameraFPS: Double?
        var screen = ""
        var screenTiming: ScreenProbe.Timing?
        var peakRSSMiB = 0.0
        var cpuTemperatureCelsius: Double?
        var throttled: String?

        enum CodingKeys: String, CodingKey {
            case app, machine, cpu, cores, model, engine, camera, screen, throttled
            case memoryMiB = "memory_mib", modelVersion = "model_version", engineError = "engine_error"
            case cameraMode = "camera_mode", cameraFPS = "camera_fps", peakRSSMiB = "peak_rss_mib"
            case cpuTemperatureCelsius = "cpu_temp_c", screenTiming = "screen_timing"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(app, forKey: .app)
            try c.encode(machine, forKey: .machine)
            try c.encode(cpu, forKey: .cpu)
            try c.encode(cores, forKey: .cores)
            try c.encode(memoryMiB, forKey: .memoryMiB)
            try c.encode(model, forKey: .model)
            try c.encode(modelVersion, forKey: .modelVersion)
            try c.encode(engine, forKey: .engine)
            try c.encode(engineError, forKey: .engineError)
            try c.encode(camera, forKey: .camera)
            try c.encode(cameraMode, forKey: .cameraMode)
            try c.encode(cameraFPS, forKey: .cameraFPS)
            try c.encode(screen, forKey: .screen)
            try c.encode(screenTiming, forKey: .screenTiming)
            try c.encode(peakRSSMiB, forKey: .peakRSSMiB)
            try c.encode(cpuTemperatureCelsius, forKey: .cpuTemperatureCelsius)
            try c.encode(throttled, forKey: .throttled)
        }
    }

    func run() throws {
        var r = Report()
        var uts = utsname()
        uname(&uts)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        r.machine = "\(text(uts.sysname)) \(text(uts.release)) \(text(uts.machine))"
        r.cpu = Self.cpuName()
        r.cores = ImageClassifier.defaultThreads
        r.memoryMiB = Int(Self.meminfo("MemTotal") / 1024)

        let installed = InstalledModels(dataDirectory: data.directory, backend: .int8)
        let path = model ?? installed.activeFile().path ?? (try? ResourceLocator.model(explicit: nil).get())
        if let path {
            r.model = path
            do {
                let loaded = try KioskModel(path: path)
                r.modelVersion = loaded.checksum
                let side = loaded.inputShape.width
                let resized = NSTemporaryDirectory() + "kiosk-selftest-\(getpid())-224.kmodel"
                defer { unlink(resized) }
                try loaded.writeResized(side: 224, to: resized)
                let maximum = min(4, max(1, r.cores))
                for (file, name, px) in [(path, "installed", side), (resized, "resnet50-224", 224)] {
                    for threads in 1...maximum { r.engine.append(try Self.time(file, name: name, side: px, threads: threads, runs: runs)) }
                }
            } catch {
                r.engineError = "\(error)"
            }
        } else {
            r.engineError = "no model installed"
        }

        (r.camera, r.cameraMode, r.cameraFPS) = measureCamera()
        if screenScans == 0 {
            r.screen = "skipped (--screen-scans 0)"
        } else if let path = r.model, r.engineError == nil {
            let file = try data.configuration()
            let probe = ScreenProbe(scans: screenScans, modelPath: path, threads: max(1, r.cores - 1),
                                    cameraDevice: r.camera == "ok" ? device : nil, fontName: file.font, cataloguePath: file.catalogue)
            do {
                let timing = try probe.measure()
                r.screenTiming = timing
                r.screen = timing.line
            } catch {
                r.screen = error.description
            }
        } else {
            r.screen = "not measured: no model runs here"
        }
        r.peakRSSMiB = BenchCommand.peakRSSMiB()
        r.cpuTemperatureCelsius = HeartbeatReport.cpuTemperature()
        r.throttled = Self.throttled()

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        print("app: kiosk \(r.app)")
        print("system: \(r.machine), \(r.cpu), \(r.cores) cores, \(r.memoryMiB) MiB")
        print("model: \(r.model ?? "none") \(r.modelVersion.map { "(\($0.prefix(16)))" } ?? "")")
        for t in r.engine {
            print(String(format: "engine: %@ %d px, %d thread%@: load %.0f ms, min %.1f ms, median %.1f ms",
                         t.model, t.side, t.threads, t.threads == 1 ? "" : "s", t.loadMilliseconds, t.minMilliseconds, t.medianMilliseconds))
        }
        if let error = r.engineError { print("engine: \(error)") }
        print("camera: \(r.camera)" + (r.cameraMode.map { ", \($0)" } ?? "") + (r.cameraFPS.map { String(format: ", %.1f fps", $0) } ?? ""))
        print("screen: \(r.screen)")
        print(String(format: "memory: peak RSS %.1f MiB", r.peakRSSMiB))
        print("cpu temperature: " + (r.cpuTemperatureCelsius.map { String(format: "%.1f °C", $0) } ?? "not reported by this system"))
        print("throttling: " + (r.throttled ?? "not reported by this system"))
    }

    /// Load time, then min and median of `runs` forward passes after one untimed pass.
    static func time(_ path: String, name: String, side: Int, threads: Int, runs: Int) throws -> Timing {
        let start = ContinuousClock.now
        let classifier = try ImageClassifier(modelPath: path, backend: .int8, threads: threads)
        let load = (ContinuousClock.now - start).milliseconds
        let s = classifier.preprocessing.resizeShorterSide
        _ = try classifier.logits(for: RGBImage(width: s, height: s, pixels: [UInt8](repeating: 128, count: s * s * 3)))
        var times: [Double] = []
        for _ in 0..<runs {
            let t = ContinuousClock.now
            try classifier.forwardAgain()
            times.append((ContinuousClock.now - t).milliseconds)
        }
        times.sort()
        return Timing(model: name, side: side, threads: threads, loadMilliseconds: (load * 10).rounded() / 10,
                      minMilliseconds: (times[0] * 100).rounded() / 100, medianMilliseconds: (times[times.count / 2] * 100).rounded() / 100)
    }

    /// The camera's state, the mode it streams and its measured fps over `cameraSeconds`.
    func measureCamera() -> (String, String?, Double?) {
        guard FileManager.default.fileExists(atPath: device) else { return ("\(device): no camera found", nil, nil) }
        let camera = V4L2Camera(settings: CameraSettings(device: device))
        camera.start()
        defer { camera.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        var last: UInt64?
        var size: String?
        while clock.now - start < .milliseconds(Int(cameraSeconds * 1000)) {
            if let frame = camera.nextFrame(after: last, timeout: .milliseconds(200)) {
                last = frame.sequence
                size = "\(frame.image.width)x\(frame.image.height) preview"
            }
        }
        let status = camera.status
        let fps = camera.statistics.delivered > 0 ? (camera.statistics.framesPerSecond * 10).rounded() / 10 : nil
        if case .streaming(_, let format) = status { return ("ok", format + (size.map { ", \($0)" } ?? ""), fps) }
        return (status.description, nil, fps)
    }

    static func cpuName() -> String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for key in ["Model", "model name", "Hardware"] {
            if let line = info.split(separator: "\n").first(where: { $0.hasPrefix(key) && $0.contains(":") }) {
                return line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }

    static func meminfo(_ key: String) -> Int64 {
        guard let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
        return Int64(line.split(separator: " ").dropFirst().first { Int64($0) != nil }.flatMap { Int64($0) } ?? 0)
    }

    /// The Raspberry Pi firmware's throttling flags (under-voltage, frequency capped, throttled, soft temperature
    /// limit; now and since boot), where the kernel exposes them.
    static func throttled() -> String? {
        guard let text = try? String(contentsOfFile: "/sys/devices/platform/soc/soc:firmware/get_throttled", encoding: .utf8),
              let bits = Int(text.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) else { return nil }
        if bits == 0 { return "none (0x0)" }
        let names = [(0, "under-voltage now"), (1, "frequency capped now"), (2, "throttled now"), (3, "soft temperature limit now"),
                     (16, "under-voltage since boot"), (17, "capped since boot"), (18, "throttled since boot"), (19, "soft limit since boot")]
        return names.filter { bits & (1 << $0.0) != 0 }.map(\.1).joined(separator: ", ") + " (0x\(String(bits, radix: 16)))"
    }
}
