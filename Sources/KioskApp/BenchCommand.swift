import ArgumentParser
import Imaging
import Inference
import KioskCore

import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Time model loading and inference (min / median / p90).")

    @OptionGroup var engine: EngineOptions

    @Option(name: .long, help: "Timed forward passes.")
    var runs = 20

    @Option(name: .long, help: "Untimed passes first.")
    var warmup = 3

    @Option(name: .long, help: "Picture to run on (default: a mid-grey picture).")
    var image: String?

    @Flag(name: .long, help: "One JSON object instead of text.")
    var json = false

    func validate() throws {
        guard runs >= 1, warmup >= 0 else { throw ValidationError("--runs must be at least 1 and --warmup not negative") }
    }

    func run() throws {
        Kiosk.bootstrapLogging(verbose: engine.verbose)
        let loaded = try EngineLoader.load(engine)
        let classifier = loaded.classifier
        let picture: RGBImage
        if let image {
            do {
                picture = try ImageDecoder.decode(file: image, minimumShorterSide: classifier.preprocessing.resizeShorterSide)
            } catch { throw fail(error.description) }
        } else {
            let side = classifier.preprocessing.resizeShorterSide
            picture = RGBImage(width: side, height: side, pixels: [UInt8](repeating: 128, count: side * side * 3))
        }
        _ = try classifier.logits(for: picture)  // puts the picture in place
        for _ in 0..<warmup { try classifier.forwardAgain() }
        var times: [Double] = []
        times.reserveCapacity(runs)
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try classifier.forwardAgain()
            times.append((ContinuousClock.now - start).milliseconds)
        }
        times.sort()
        let median = times[times.count / 2]
        let p90 = times[min(times.count - 1, Int((Double(times.count) * 0.9).rounded(.up)) - 1)]
        let rss = Self.peakRSSMiB()
        if json {
            print(String(format: "{\"backend\":\"%@\",\"threads\":%d,\"load_ms\":%.1f,\"runs\":%d,\"min_ms\":%.2f,\"median_ms\":%.2f,\"p90_ms\":%.2f,\"peak_rss_mib\":%.1f}",
                         engine.backend.rawValue, classifier.threads, loaded.loadTime.milliseconds, runs, times[0], median, p90, rss))
        } else {
            print("model: \(loaded.path)")
            print("backend: \(engine.backend.rawValue), threads: \(classifier.threads)")
            print(String(format: "load: %.1f ms", loaded.loadTime.milliseconds))
            print(String(format: "latency over %d runs: min %.2f ms, median %.2f ms, p90 %.2f ms", runs, times[0], median, p90))
            print(String(format: "peak RSS: %.1f MiB", rss))
        }
    }

    /// VmHWM from /proc/self/status.
    static func peakRSSMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        let kib = Double(line.split(separator: " ").dropFirst().first { Double($0) != nil }.flatMap { Double($0) } ?? 0)
        return kib / 1024
    }
}
