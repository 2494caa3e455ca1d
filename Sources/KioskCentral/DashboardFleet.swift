import Central
import Foundation
import KioskCore

/// The fleet on the dashboard: each kiosk's health from its last heartbeat (silent or unhealthy ones flagged),
/// the rollout (kiosks assigned to and running each model version) and field accuracy per model version.
struct FleetReport: Sendable {
    var health: [KioskHealth]
    var assigned: [(kiosk: String, assigned: String?, running: String?)]
    var models: [StoredModel]
    var accuracy: [ModelFieldAccuracy]
    var now: Int64
    var silentAfterMilliseconds: Int64

    /// Versions as records carry them (16 hex digits), so that heartbeats, rollouts and records meet.
    static func short(_ version: String?) -> String? { version.map { String($0.prefix(16)) } }

    /// Each model version anyone assigns, runs or scanned with: (version, notes, assigned kiosks, running kiosks).
    var rollout: [(version: String, notes: String?, assigned: Int, running: Int)] {
        var versions: [String] = models.map { String($0.version.prefix(16)) }
        for v in assigned.compactMap({ Self.short($0.assigned) }) + health.compactMap({ Self.short($0.heartbeat.modelVersion) })
        where !versions.contains(v) {
            versions.append(v)
        }
        return versions.map { v in
            (v, models.first { $0.version.hasPrefix(v) }?.notes,
             assigned.filter { Self.short($0.assigned) == v }.count,
             health.filter { Self.short($0.heartbeat.modelVersion) == v }.count)
        }
    }
}

extension DashboardPage {
    static func fleetSection(_ fleet: FleetReport, language: Language) -> String {
        let t = { DashboardText.text($0, language) }
        var body = "<section><h2>\(t("health"))</h2>"
        if fleet.health.isEmpty {
            body += "<p id=\"health-none\">\(t("no_heartbeats"))</p>"
        } else {
            body += """
                <div class="scroll"><table id="health"><tr><th>\(t("kiosk"))</th><th>\(t("status"))</th><th>\(t("last_heard"))</th>
                <th>\(t("app"))</th><th>\(t("model"))</th><th>\(t("camera"))</th><th class="n">\(t("disk"))</th><th class="n">\(t("pending"))</th>
                <th class="n">\(t("uptime"))</th><th class="n">\(t("temperature"))</th></tr>
                """
            for k in fleet.health {
                let h = k.heartbeat
                let problems = k.problems(now: fleet.now, silentAfterMilliseconds: fleet.silentAfterMilliseconds)
                let status = problems.isEmpty ? t("healthy") : problems.map { $0 == "silent" ? t("silent") : $0 }.joined(separator: ", ")
                let disk = h.diskFreeBytes.map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "–"
                let uptime = h.uptimeSeconds.map { "\($0 / 86400) d \($0 % 86400 / 3600) h" } ?? "–"
                let errors = [h.modelError, h.lastError].compactMap { $0 }.map(HTML.escape).joined(separator: "<br>")
                body += """
                    <tr data-kiosk="\(HTML.escape(h.kiosk))" data-status="\(problems.isEmpty ? "ok" : HTML.escape(problems.joined(separator: ",")))"\
                    \(problems.isEmpty ? "" : " style=\"background:#fde8e8\"")>
                    <td>\(HTML.escape(h.kiosk))</td><td>\(problems.isEmpty ? "" : "<b>")\(HTML.escape(status))\(problems.isEmpty ? "" : "</b>")\
                    \(errors.isEmpty ? "" : "<br><span class=\"note\">\(errors)</span>")</td>
                    <td>\(HTML.escape(WallClock.iso8601(milliseconds: k.receivedAtMilliseconds)))</td><td>\(HTML.escape(h.appVersion))</td>
                    <td>\(HTML.escape(FleetReport.short(h.modelVersion) ?? "–"))</td><td>\(HTML.escape(h.camera))</td>
                    <td class="n">\(disk)</td><td class="n">\(h.pending)\(h.refused > 0 ? " (+\(h.refused))" : "")</td>
                    <td class="n">\(uptime)</td><td class="n">\(h.cpuTemperatureCelsius.map { String(format: "%.0f °C", $0) } ?? "–")</td></tr>
                    """
            }
            body += "</table></div>"
        }
        let seconds = fleet.silentAfterMilliseconds / 1000
        let span = seconds < 120 ? "\(seconds) s" : "\(seconds / 60) min"
        body += "<p class=\"note\">\(HTML.escape(t("health_note").replacingOccurrences(of: "%@", with: span)))</p></section>"

        body += """
            <section><h2>\(t("rollout"))</h2><div class="scroll"><table id="rollout"><tr><th>\(t("model"))</th><th></th>
            <th class="n">\(t("assigned"))</th><th class="n">\(t("running"))</th></tr>
            """
        for r in fleet.rollout {
            body += """
                <tr data-model="\(r.version)" data-assigned="\(r.assigned)" data-running="\(r.running)"><td>\(r.version)</td>
                <td>\(HTML.escape(r.notes ?? ""))</td><td class="n">\(r.assigned)</td><td class="n">\(r.running)</td></tr>
                """
        }
        body += "</table></div></section>"

        body += """
            <section><h2>\(t("field_accuracy"))</h2><div class="scroll"><table id="field-accuracy"><tr><th>\(t("model"))</th>
            <th class="n">\(t("kiosks"))</th><th class="n">\(t("answers"))</th><th class="n">\(t("corrected"))</th><th class="n">\(t("right_share"))</th></tr>
            """
        if fleet.accuracy.isEmpty { body += "<tr><td colspan=\"5\">\(t("no_records"))</td></tr>" }
        for a in fleet.accuracy {
            body += """
                <tr data-model="\(HTML.escape(a.modelVersion))" data-answers="\(a.answers)" data-corrected="\(a.corrected)">
                <td>\(HTML.escape(a.modelVersion))</td><td class="n">\(a.kiosks)</td><td class="n">\(HTML.number(a.answers))</td>
                <td class="n">\(HTML.number(a.corrected))</td><td class="n">\(HTML.percent(Double(a.answers - a.corrected) / Double(max(1, a.answers))))</td></tr>
                """
        }
        return body + "</table></div><p class=\"note\">\(HTML.escape(t("field_note")))</p></section>"
    }
}
