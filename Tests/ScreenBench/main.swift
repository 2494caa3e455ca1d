// Benchmark of the touchscreen loop (scripts/bench-screen): the real loop on SDL's offscreen driver, a replay
// camera at 30 fps, the real model on its thread, a real record store. Each scan is a tap injected through SDL's
// event queue, the answer, and a tap on Done. Reports tap-to-answer latency against the classifier's own time,
// frame times while the engine runs, and resident memory every 100 scans.
//
//   screen-bench MODEL PICTURES_DIR CATALOGUE_DIR SCANS [THREADS]
import Camera
import Foundation
import Inference
import KioskCore
import Screens
import Sync
import Touchscreen

let arguments = CommandLine.arguments
guard arguments.count >= 5, let scans = Int(arguments[4]), scans > 0 else {
    FileHandle.standardError.write(Data("usage: screen-bench MODEL PICTURES_DIR RESOURCES_DIR SCANS [THREADS]\n".utf8))
    exit(2)
}
let (modelPath, pictures, resources) = (arguments[1], arguments[2], arguments[3])
let threads = arguments.count > 5 ? Int(arguments[5]) ?? 2 : 2
setenv("SDL_VIDEODRIVER", "offscreen", 0)

func residentMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let pages = text.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

do {
    let catalogue = try Catalogue(json: Array(FileManager.default.contents(atPath: resources + "/catalogue.json")!), source: "catalogue.json")
    var configuration = KioskLoop.Configuration(
        font: try FontFinder.find(configured: nil), catalogue: catalogue,
        texts: try UIText.Table(catalogue: catalogue, source: "catalogue.json"), kiosk: "bench")
    configuration.settings.minimumConfidence = 0
    configuration.settings.minimumMargin = 0
    configuration.windowed = true
    configuration.windowSize = (1280, 800)
    configuration.iconDirectory = resources + "/icons"
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("screen-bench-\(UUID().uuidString)").path
    let camera = try ReplayFrameSource(path: pictures, framesPerSecond: Double(ProcessInfo.processInfo.environment["BENCH_FPS"] ?? "30") ?? 30)
    let engine = InferenceWorker {
        let classifier = try ImageClassifier(modelPath: modelPath, backend: .int8, threads: threads)
        return LoadedModel(classifier: classifier, version: String(classifier.model!.checksum.prefix(16)))
    }
    let records = RecordWriter(startOfDay: { 0 }) { try RecordStore(dataDirectory: data) }
    let loop = try KioskLoop(configuration: configuration, camera: camera, engine: engine, records: records)
    camera.start()
    engine.start()
    records.start()
    defer {
        camera.stop()
        engine.stop()
        records.stop()
        try? FileManager.default.removeItem(atPath: data)
    }

    /// One paced frame, as `KioskLoop.run` does it.
    func paced() {
        let start = ContinuousClock.now
        let before = loop.machine.screen
        loop.step()
        let spent = ContinuousClock.now - start
        if ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil && spent > .milliseconds(20) {
            print("slow frame \(milliseconds(spent)) ms: \(before) -> \(loop.machine.screen)")
        }
        loop.waitForNextFrame(startedAt: start)
    }
    func tap(_ action: ScreenAction) {
        guard let p = loop.point(for: action) else { fatalError("no \(action) on \(loop.machine.screen)") }
        loop.injectTap(x: p.x, y: p.y)
    }
    while case .loading = engine.status { paced() }
    while camera.latestFrame() == nil { paced() }
    for _ in 0..<30 { paced() }

    func scan() {
        tap(.scan)
        var n = 0
        while true {
            paced()
            if case .result = loop.machine.screen { break }
            n += 1
            if n > 600 { fatalError("no answer after 10 s: \(loop.machine.screen)") }
        }
        for _ in 0..<3 { paced() }  // the answer on screen for a few frames
        tap(.done)
        paced()
        for _ in 0..<3 { paced() }  // Ready with live picture
    }

    for _ in 0..<20 { scan() }  // warm-up: caches, allocator, texture sizes
    loop.resetStatistics()
    let warm = residentMiB()
    var rss: [(Int, Double)] = [(0, warm)]
    let started = ContinuousClock.now
    for i in 1...scans {
        scan()
        if i % 100 == 0 || i == scans { rss.append((i, residentMiB())) }
    }
    let s = loop.statistics
    let n = min(scans, s.tapToAnswer.count)
    let latency = s.tapToAnswer.suffix(n).map(milliseconds)
    let inference = s.inference.suffix(n).map(milliseconds)
    let overhead = zip(latency, inference).map { $0 - $1 }
    let frames = s.frameTimesWhileScanning.map(milliseconds)
    let all = s.frameTimes.map(milliseconds)
    print(String(format: "scans %d in %.1f s, threads %d, renderer %@", scans, milliseconds(ContinuousClock.now - started) / 1000,
                 threads, loop.display.rendererName))
    print(String(format: "tap-to-answer ms: median %.1f p95 %.1f max %.1f", percentile(latency, 0.5), percentile(latency, 0.95), latency.max() ?? .nan))
    print(String(format: "inference ms:     median %.1f p95 %.1f", percentile(inference, 0.5), percentile(inference, 0.95)))
    print(String(format: "overhead ms (tap-to-answer minus inference): median %.1f p95 %.1f max %.1f",
                 percentile(overhead, 0.5), percentile(overhead, 0.95), overhead.max() ?? .nan))
    print(String(format: "frame work ms while scanning (%d frames): median %.2f p99 %.2f max %.2f", frames.count,
                 percentile(frames, 0.5), percentile(frames, 0.99), frames.max() ?? .nan))
    print(String(format: "frame work ms, all (%d frames): median %.2f p99 %.2f", all.count, percentile(all, 0.5), percentile(all, 0.99)))
    print("rss MiB by scans: " + rss.map { String(format: "%d:%.1f", $0.0, $0.1) }.joined(separator: " "))
    print(String(format: "rss growth after warm-up: %.1f MiB over %d scans", (rss.last?.1 ?? warm) - warm, scans))
    print("records stored: \(records.snapshot.stored), texts that did not fit: \(loop.textOverflows.count)")
} catch {
    FileHandle.standardError.write(Data("screen-bench: \(error)\n".utf8))
    exit(1)
}
