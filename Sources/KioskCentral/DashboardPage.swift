import Central
import KioskCore

/// The dashboard's pages, rendered on the server: one self-contained HTML document each (inline CSS and SVG,
/// nothing fetched from outside), laid out to fit a phone as well as a desk screen.
enum DashboardPage {
    static let style = """
        *{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:#1b1f24;background:#f3f5f7}
        header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;justify-content:space-between;padding:12px 16px;background:#12161c;color:#fff}
        header h1{font-size:20px;margin:0}header a{color:#ffd60a}header form{display:inline}header button{background:none;border:1px solid #ffd60a;color:#ffd60a;border-radius:4px;padding:4px 10px}
        main{max-width:1200px;margin:0 auto;padding:12px}section{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;box-shadow:0 1px 2px #0002}
        h2{font-size:18px;margin:4px 0 10px}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}
        .card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}.card b{display:block;font-size:28px}
        .filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end}.filters label{display:flex;flex-direction:column;font-size:14px}
        input,select,button{font:inherit;padding:6px 8px}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;min-width:560px}
        th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e6ea}td.n,th.n{text-align:right}
        .chart{width:100%;height:auto}.chart .l,.chart .v{font-size:15px;fill:#1b1f24}.chart .a{font-size:12px;fill:#555}
        .note{color:#555;font-size:14px}.error{color:#b00020;font-weight:bold}.login{max-width:380px;margin:10vh auto}
        .login form{display:flex;flex-direction:column;gap:10px}
        """

    static func document(title: String, language: Language, body: String) -> String {
        """
        <!doctype html><html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>\(HTML.escape(title))</title>
        <style>\(style)</style></head><body>\(body)</body></html>
        """
    }

    static func login(language: Language, csrf: String, error: String?, name: String = "") -> String {
        let t = { DashboardText.text($0, language) }
        let other: Language = language == .zh ? .en : .zh
        let body = """
            <main class="login"><section><h1>\(HTML.escape(t("title")))</h1>
            \(error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/login?lang=\(language.rawValue)">
            <input type="hidden" name="csrf" value="\(csrf)">
            <label>\(t("name"))<br><input name="name" id="name" autocomplete="username" required value="\(HTML.escape(name))"></label>
            <label>\(t("password"))<br><input name="password" id="password" type="password" autocomplete="current-password" required></label>
            <button type="submit" id="signin">\(t("signin"))</button></form>
            <p><a href="/login?lang=\(other.rawValue)">\(other == .zh ? "中文" : "English")</a></p></section></main>
            """
        return document(title: t("signin"), language: language, body: body)
    }

    static func dashboard(_ s: FleetStatistics, language: Language, operatorName: String, csrf: String, kioskNames: [String],
                          quiz: QuizReport? = nil, points: [PointsTotal]? = nil, fleet: FleetReport? = nil) -> String {
        let t = { DashboardText.text($0, language) }
        let other: Language = language == .zh ? .en : .zh
        let filter = "from=\(s.from)&to=\(s.to)" + (s.kiosk.map { "&kiosk=\(HTML.query($0))" } ?? "")
        let selfPath = s.kiosk.map { "/dashboard/kiosk/\(HTML.query($0))" } ?? "/dashboard"
        var body = """
            <header><h1>\(HTML.escape(t("title")))\(s.kiosk.map { " · " + HTML.escape($0) } ?? "")</h1>
            <div>\(HTML.escape(operatorName)) · <a href="\(selfPath)?\(filter)&lang=\(other.rawValue)">\(other == .zh ? "中文" : "English")</a>
            · <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(csrf)"><button id="signout">\(t("signout"))</button></form></div></header><main>
            """
        if s.kiosk != nil { body += "<p><a href=\"/dashboard?from=\(s.from)&to=\(s.to)&lang=\(language.rawValue)\">← \(t("back"))</a></p>" }
        // Filters: a plain GET form (it changes nothing, so it needs no CSRF token).
        body += """
            <section><form class="filters" method="get" action="/dashboard">
            <input type="hidden" name="lang" value="\(language.rawValue)">
            <label>\(t("from"))<input type="date" name="from" value="\(s.from)"></label>
            <label>\(t("to"))<input type="date" name="to" value="\(s.to)"></label>
            <label>\(t("kiosk"))<select name="kiosk"><option value="">\(t("all_kiosks"))</option>
            """
        for name in kioskNames {
            body += "<option\(name == s.kiosk ? " selected" : "")>\(HTML.escape(name))</option>"
        }
        body += """
            </select></label><button type="submit">\(t("apply"))</button>
            <a href="/api/v1/records.csv?\(filter)">\(t("export"))</a></form></section>
            <div class="cards">
            \(card("today", t("today"), s.today))\(card("last-7", t("last_7"), s.last7Days))\(card("last-30", t("last_30"), s.last30Days))
            \(card("total", "\(t("in_range")) \(s.from) – \(s.to)", s.total))
            <div class="card">\(t("not_sure"))<b id="not-sure" data-value="\(s.notSure)">\(s.total > 0 ? HTML.percent(Double(s.notSure) / Double(s.total)) : "–")</b></div>
            </div>
            """
        let bins = DashboardText.bins.map { (label: language == .zh ? $0.zh : $0.en, value: s.perCategory[$0.id] ?? 0, colour: $0.colour) }
        body += "<section><h2>\(t("per_category"))</h2>\(SVGCharts.bars(bins, id: "chart-bins"))<div hidden>"
        for b in DashboardText.bins { body += "<span id=\"bin-\(b.id)\" data-value=\"\(s.perCategory[b.id] ?? 0)\"></span>" }
        body += "</div></section>"
        let days = s.daily.map { (label: String($0.day.dropFirst(5)), value: $0.count) }
        body += "<section><h2>\(t("trend"))</h2>\(SVGCharts.columns(days, id: "chart-days", labelEvery: max(1, days.count / 6)))</section>"
        let hours = s.hourly.enumerated().map { (label: String(format: "%02d", $0.offset), value: $0.element) }
        body += "<section><h2>\(t("hours"))</h2>\(SVGCharts.columns(hours, id: "chart-hours", colour: "#00843D", labelEvery: 3))</section>"

        body += """
            <section><h2>\(t("kiosks"))</h2><div class="scroll"><table id="kiosks"><tr><th>\(t("kiosk"))</th><th>\(t("last_sync"))</th>
            <th>\(t("newest_scan"))</th><th class="n">\(t("records"))</th><th>\(t("model"))</th><th class="n">\(t("not_sure"))</th></tr>
            """
        for k in s.kiosks {
            body += """
                <tr data-kiosk="\(HTML.escape(k.name))" data-records="\(k.records)" data-total="\(k.recordsTotal)">
                <td><a href="/dashboard/kiosk/\(HTML.query(k.name))?from=\(s.from)&to=\(s.to)&lang=\(language.rawValue)">\(HTML.escape(k.name))</a></td>
                <td>\(HTML.escape(k.lastSync ?? t("never")))</td><td>\(HTML.escape(k.newestScan ?? "–"))</td>
                <td class="n">\(HTML.number(k.records)) / \(HTML.number(k.recordsTotal))</td><td>\(HTML.escape(k.modelVersion ?? "–"))</td>
                <td class="n">\(k.notSureShare.map(HTML.percent) ?? "–")</td></tr>
                """
        }
        body += "</table></div><p class=\"note\">\(HTML.escape(t("not_sure_note")))</p></section>"

        body += """
            <section><h2>\(t("accuracy"))</h2><div class="scroll"><table id="accuracy"><tr><th>\(t("label"))</th>
            <th class="n">\(t("answers"))</th><th class="n">\(t("corrected"))</th><th>\(t("corrected_to"))</th></tr>
            """
        if s.accuracy.isEmpty { body += "<tr><td colspan=\"4\">\(t("no_records"))</td></tr>" }
        for a in s.accuracy {
            let to = a.correctedTo.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\(HTML.escape(readable($0.key, language))) (\($0.value))" }.joined(separator: ", ")
            let share = a.answers > 0 ? " (\(HTML.percent(Double(a.corrected) / Double(a.answers))))" : ""
            body += """
                <tr data-label="\(HTML.escape(a.label))" data-answers="\(a.answers)" data-corrected="\(a.corrected)">
                <td>\(HTML.escape(a.label))</td><td class="n">\(HTML.number(a.answers))</td><td class="n">\(HTML.number(a.corrected))\(share)</td><td>\(to)</td></tr>
                """
        }
        body += "</table></div></section>"
        if let fleet { body += fleetSection(fleet, language: language) }
        if let quiz { body += quizSection(quiz, language: language) }
        if let points { body += pointsSection(points, from: s.from, to: s.to, language: language) }
        body += "</main>"
        return document(title: t("title"), language: language, body: body)
    }

    /// The quiz: mastery per bin, then the questions residents get wrong most.
    static func quizSection(_ quiz: QuizReport, language: Language) -> String {
        let t = { DashboardText.text($0, language) }
        var body = "<section><h2>\(t("quiz"))</h2>"
        guard !quiz.isEmpty else { return body + "<p id=\"quiz-none\">\(t("no_quiz"))</p></section>" }
        body += """
            <div class="scroll"><table id="quiz-bins"><tr><th>\(t("bin"))</th><th class="n">\(t("answered"))</th>
            <th class="n">\(t("right"))</th><th>\(t("mastery"))</th></tr>
            """
        for b in quiz.bins {
            body += """
                <tr data-bin="\(b.bin.rawValue)" data-answered="\(b.answered)" data-right="\(b.right)" data-mastery="\(b.mastery.rawValue)">
                <td>\(HTML.escape(DashboardText.bin(b.bin.rawValue, language)))</td><td class="n">\(HTML.number(b.answered))</td>
                <td class="n">\(HTML.percent(Double(b.right) / Double(max(1, b.answered))))</td><td>\(HTML.escape(b.mastery.name[language]))</td></tr>
                """
        }
        body += """
            </table></div><h2>\(t("quiz_hardest"))</h2><div class="scroll"><table id="quiz-questions"><tr><th>\(t("question"))</th>
            <th>\(t("bin"))</th><th class="n">\(t("answered"))</th><th class="n">\(t("right"))</th></tr>
            """
        for q in quiz.questions.prefix(20) {
            body += """
                <tr data-question="\(HTML.escape(q.question))" data-answered="\(q.answered)" data-right="\(q.right)">
                <td>\(HTML.escape(q.text?[language] ?? q.question))</td><td>\(q.bin.map { HTML.escape(DashboardText.bin($0.rawValue, language)) } ?? "–")</td>
                <td class="n">\(HTML.number(q.answered))</td><td class="n">\(HTML.percent(q.share))</td></tr>
                """
        }
        return body + "</table></div><p class=\"note\">\(HTML.escape(t("quiz_note")))</p></section>"
    }

    /// Points claimed per day and kiosk, with their export.
    static func pointsSection(_ totals: [PointsTotal], from: String, to: String, language: Language) -> String {
        let t = { DashboardText.text($0, language) }
        var body = "<section><h2>\(t("points"))</h2>"
        let sum = totals.reduce(0) { $0 + $1.points }, claims = totals.reduce(0) { $0 + $1.claims }
        body += """
            <div class="cards"><div class="card">\(t("claims"))<b id="points-claims" data-value="\(claims)">\(HTML.number(claims))</b></div>
            <div class="card">\(t("points_total"))<b id="points-sum" data-value="\(sum)">\(HTML.number(sum))</b></div></div>
            """
        guard !totals.isEmpty else { return body + "<p id=\"points-none\">\(t("no_points"))</p></section>" }
        body += """
            <div class="scroll"><table id="points"><tr><th>\(t("day"))</th><th>\(t("kiosk"))</th><th class="n">\(t("claims"))</th>
            <th class="n">\(t("credited"))</th><th class="n">\(t("pending"))</th><th class="n">\(t("void"))</th><th class="n">\(t("points_total"))</th></tr>
            """
        for p in totals {
            body += """
                <tr data-day="\(p.day)" data-kiosk="\(HTML.escape(p.kiosk))" data-points="\(p.points)" data-pending="\(p.pending)">
                <td>\(p.day)</td><td>\(HTML.escape(p.kiosk))</td><td class="n">\(HTML.number(p.claims))</td><td class="n">\(HTML.number(p.credited))</td>
                <td class="n">\(HTML.number(p.pending))</td><td class="n">\(HTML.number(p.void))</td><td class="n">\(HTML.number(p.points))</td></tr>
                """
        }
        return body + """
            </table></div><p><a id="export-points" href="/api/v1/points.csv?from=\(from)&to=\(to)">\(t("export_points"))</a></p>
            <p class="note">\(HTML.escape(t("points_note")))</p></section>
            """
    }

    private static func card(_ id: String, _ title: String, _ value: Int) -> String {
        "<div class=\"card\">\(HTML.escape(title))<b id=\"\(id)\" data-value=\"\(value)\">\(HTML.number(value))</b></div>"
    }

    /// A correction as people read it: a bin's name for `category:<bin>`, else the label.
    static func readable(_ correction: String, _ language: Language) -> String {
        switch Correction(recordValue: correction) {
        case .category(let bin): DashboardText.bin(bin.rawValue, language)
        case .label(let label): label
        }
    }
}
