import ArgumentParser
import Camera
import Foundation
import Inference
import KioskCore
import Sync

#if canImport(Glibc)
import Glibc
#endif

/// A technician's one-look health summary: camera, model, records, sync, disk, uptime.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Health summary: camera, model, last scans, pending records, last sync, disk, uptime.")

    @Option(name: .long, help: "Camera device to check.")
    var device = "/dev/video0"

    @Option(name: .long, help: "Model file (default: the installed one).")
    var model: String?

    @Flag(name: .long, help: "One JSON object, for scripts.")
    var json = false

    @OptionGroup var data: DataOptions

    struct Report {
        var fields: [(String, String?)] = []  // key, JSON value (already encoded) or nil for null
        var lines: [String] = []
        var problems: [String] = []
    }

    func run() throws {
        var r = Report()

        // Camera: open and query only; a camera the app is streaming from answers "busy", which is fine.
        do {
            let camera = try V4L2Device(path: device)
            let formats = camera.formats().map(\.format.description).joined(separator: ", ")
            r.lines.append("camera: \(device): \(camera.card) (\(camera.driver)), formats \(formats)")
            r.fields.append(("camera", JSONText.string("ok")))
            r.fields.append(("camera_card", JSONText.string(camera.card)))
        } catch {
            let inUse = error == .busy(device: device)
            r.lines.append("camera: \(error.description)" + (inUse ? " (normal while the kiosk app runs)" : ""))
            r.fields.append(("camera", JSONText.string(inUse ? "busy" : error.description)))
            if !inUse { r.problems.append("camera") }
        }

        // Model: version and checksum are verified by loading its header.
        // The model the app would load: --model, else the installed active one, else the bundled one.
        let models = ModelStore(dataDirectory: data.directory)
        let modelState = try? models.state()
        let installed = model == nil ? modelState?.active?.file : nil
        switch installed.map({ Result<String, ResourceLocator.ModelNotFound>.success($0) }) ?? ResourceLocator.model(explicit: model) {
        case .success(let path):
            do {
                let m = try KioskModel(path: path)
                let s = m.inputShape
                r.lines.append("model: \(path), format \(KioskModel.formatVersion), sha256 \(m.checksum.prefix(16)), "
                               + "\(m.labels.count) labels, input \(s.width)x\(s.height), created \(m.created)")
                r.fields += [("model", JSONText.string(path)), ("model_sha256", JSONText.string(m.checksum)),
                             ("model_labels", "\(m.labels.count)")]
            } catch {
                r.lines.append("model: \(error)")
                r.fields.append(("model", nil))
                r.problems.append("model")
            }
        case .failure(let notFound):
            r.lines.append("model: \(notFound.description)")
            r.fields.append(("model", nil))
            r.problems.append("model")
        }

        if let error = modelState?.lastError {
            r.lines.append("model updates: last error \(error) (\(modelState?.lastErrorAt ?? "?"))")
        }
        r.fields.append(("model_error", modelState?.lastError.map { JSONText.string($0) }))

        // Records and sync.
        do {
            let store = try RecordStore(dataDirectory: data.directory)
            let summary = try store.summary()
            let midnight = Self.localMidnightMilliseconds()
            let today = try store.counts(sinceMilliseconds: midnight)
            let todayText = WasteCategory.allCases.compactMap { c in today[c].map { "\(c.rawValue) \($0)" } }.joined(separator: ", ")
            let last = try store.latest()
            let enrollment = try? Enrollment.load(dataDirectory: data.directory)
            r.lines.append("records: \(summary.total) kept, \(today.values.reduce(0, +)) today"
                           + (todayText.isEmpty ? "" : " (\(todayText))")
                           + (last.map { ", last \(WallClock.iso8601(milliseconds: $0.capturedAtMilliseconds)) \($0.label)" } ?? ""))
            r.lines.append("pending: \(summary.pending)"
                           + (summary.oldestPendingCapturedAtMilliseconds.map { ", oldest \(WallClock.iso8601(milliseconds: $0))" } ?? ""))
            if summary.refused > 0 {
                r.lines.append("refused by the server, set aside: \(summary.refused) (latest: \(summary.latestRefusal ?? "?"))")
                r.problems.append("refused records")
            }
            r.lines.append("sync: " + (enrollment.map { e in "\(e.server) as \(e.kiosk)" } ?? "not enrolled")
                           + ", last success \(summary.lastSuccess ?? "never")"
                           + (summary.lastError.map { ", last error \($0)" } ?? ""))
            func quoted(_ text: String?) -> String? { text.map { JSONText.string($0) } }
            let oldest = summary.oldestPendingCapturedAtMilliseconds.map { WallClock.iso8601(milliseconds: $0) }
            r.fields.append(("records", "\(summary.total)"))
            r.fields.append(("records_today", "\(today.values.reduce(0, +))"))
            r.fields.append(("pending", "\(summary.pending)"))
            r.fields.append(("refused", "\(summary.refused)"))
            r.fields.append(("oldest_pending", quoted(oldest)))
            r.fields.append(("last_sync", quoted(summary.lastSuccess)))
            r.fields.append(("last_sync_error", quoted(summary.lastError)))
            r.fields.append(("server", quoted(enrollment?.server)))
        } catch {
            r.lines.append("records: \(error)")
            r.fields.append(("records", nil))
            r.problems.append("records")
        }

        // Disk and uptime.
        var fs = statvfs()
        if statvfs(data.directory, &fs) == 0 {
            let free = Double(fs.f_bavail) * Double(fs.f_frsize) / 1_073_741_824
            let total = Double(fs.f_blocks) * Double(fs.f_frsize) / 1_073_741_824
            r.lines.append("disk: \(String(format: "%.1f", free)) GiB free of \(String(format: "%.1f", total)) GiB (\(data.directory))")
            r.fields.append(("disk_free_gib", JSONText.number(free, digits: 2)))
            if free < 0.5 { r.problems.append("disk") }
        }
        if let text = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            let seconds = Double(text.split(separator: " ").first ?? "")
        {
            let s = Int(seconds)
            r.lines.append("uptime: \(s / 86400) d \(s % 86400 / 3600) h \(s % 3600 / 60) min")
            r.fields.append(("uptime_s", "\(s)"))
        }
        r.fields.append(("healthy", r.problems.isEmpty ? "true" : "false"))

        if json {
            print("{" + r.fields.map { "\(JSONText.string($0.0)):\($0.1 ?? "null")" }.joined(separator: ",") + "}")
        } else {
            r.lines.forEach { print($0) }
            print(r.problems.isEmpty ? "healthy" : "needs attention: \(r.problems.joined(separator: ", "))")
        }
    }

    static func localMidnightMilliseconds() -> Int64 {
        let start = Calendar.current.startOfDay(for: Date())
        return Int64(start.timeIntervalSince1970 * 1000)
    }
}
