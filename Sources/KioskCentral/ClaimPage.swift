import Central
import Foundation
import KioskCore

/// The resident page's points screens: the claim form a kiosk's QR code opens, the balance form, and what came of
/// either. Plain forms, no script: they work on any phone.
enum ClaimPage {
    enum Outcome {
        case claimed(ClaimEntry, PointsBalance)
        case balance(PointsBalance)
        case refused(ClaimRefusal)
    }

    private static func header(_ language: Language, path: String) -> String {
        let t = { ResidentText.text($0, language) }
        let other: Language = language == .zh ? .en : .zh
        return """
            <header><h1>\(HTML.escape(t("points")))</h1><a id="language" href="\(path)\(path.contains("?") ? "&" : "?")lang=\(other.rawValue)">\
            \(other == .zh ? "中文" : "English")</a></header><main>
            """
    }

    private static func loginFields(_ language: Language) -> String {
        let t = { ResidentText.text($0, language) }
        return """
            <input type="hidden" name="lang" value="\(language.rawValue)">
            <p><label for="nickname">\(HTML.escape(t("nickname")))</label><br><input class="field" id="nickname" name="nickname" required
             minlength="\(ResidentLogin.nicknameLength.lowerBound)" maxlength="\(ResidentLogin.nicknameLength.upperBound)" autocomplete="nickname"></p>
            <p><label for="pin">\(HTML.escape(t("pin")))</label><br><input class="field" id="pin" name="pin" type="password" inputmode="numeric"
             pattern="[0-9]{\(ResidentLogin.pinLength.lowerBound),\(ResidentLogin.pinLength.upperBound)}" required autocomplete="current-password"></p>
            """
    }

    static let style = "input.field{font:inherit;width:100%;padding:12px;border:2px solid #9aa5a0;border-radius:10px}"
        + ".total{font-size:40px;font-weight:bold;color:#0b5d3b}table{width:100%;border-collapse:collapse}td{padding:6px 4px;border-top:1px solid #e3e6ea}"
        + "td:first-child{white-space:nowrap}"

    static func claimForm(code: String, language: Language) -> String {
        let t = { ResidentText.text($0, language) }
        var body = header(language, path: "/resident/claim?c=\(HTML.query(code))")
        body += "<section id=\"claim\"><h2>\(HTML.escape(t("claim_title")))</h2>"
        if code.isEmpty {
            body += "<p class=\"error\" id=\"error\">\(HTML.escape(t("no_code")))</p>"
        } else {
            body += """
                <p>\(HTML.escape(t("claim_intro")))</p><form method="post" action="/resident/claim" id="claim-form">
                <input type="hidden" name="c" value="\(HTML.escape(code))">\(loginFields(language))
                <button class="big" type="submit" id="claim-button">\(HTML.escape(t("claim_button")))</button></form>
                """
        }
        body += "</section>" + balanceSection(language) + "</main>"
        return ResidentPage.document(title: t("claim_title"), language: language, body: "<style>\(style)</style>" + body)
    }

    static func balanceForm(language: Language) -> String {
        let t = { ResidentText.text($0, language) }
        let body = header(language, path: "/resident/points") + balanceSection(language) + "</main>"
        return ResidentPage.document(title: t("points"), language: language, body: "<style>\(style)</style>" + body)
    }

    private static func balanceSection(_ language: Language) -> String {
        let t = { ResidentText.text($0, language) }
        return """
            <section id="balance-form"><h2>\(HTML.escape(t("points")))</h2><form method="post" action="/resident/points">\(loginFields(language))
            <button class="big" type="submit" id="balance-button">\(HTML.escape(t("balance_button")))</button></form></section>
            """
    }

    static func render(_ outcome: Outcome, language: Language, bin: (WasteCategory) -> String) -> String {
        let t = { ResidentText.text($0, language) }
        var body = header(language, path: "/resident/points")
        switch outcome {
        case .refused(let refusal):
            body += """
                <section id="refused"><h2>\(HTML.escape(t("refused")))</h2><p class="error" id="error">\(HTML.escape(refusal.description))</p>\
                <p><a href="/resident/points?lang=\(language.rawValue)">\(HTML.escape(t("points")))</a></p></section>
                """
        case .claimed(let entry, let balance):
            body += "<section id=\"claimed\" data-state=\"\(entry.state.rawValue)\"><h2>\(HTML.escape(t("claim_title")))</h2>"
            if entry.state == .credited {
                body += "<p id=\"credited\"><b>\(HTML.escape(t("credited")))</b> +\(entry.points) \(HTML.escape(t("points_unit")))</p>"
            } else {
                body += "<p id=\"pending\">\(HTML.escape(t("pending")))</p>"
            }
            body += "</section>" + balanceCard(balance, language, bin: bin)
        case .balance(let balance):
            body += balanceCard(balance, language, bin: bin)
        }
        body += "<p><a href=\"/resident?lang=\(language.rawValue)\">\(HTML.escape(t("title")))</a></p></main>"
        return ResidentPage.document(title: t("points"), language: language, body: "<style>\(style)</style>" + body)
    }

    private static func balanceCard(_ b: PointsBalance, _ language: Language, bin: (WasteCategory) -> String) -> String {
        let t = { ResidentText.text($0, language) }
        var html = """
            <section id="balance" data-points="\(b.points)" data-pending="\(b.pending)"><h2>\(HTML.escape(t("balance"))) · \(HTML.escape(b.nickname))</h2>
            <p class="total" id="total">\(HTML.number(b.points)) <small>\(HTML.escape(t("points_unit")))</small></p>
            """
        if b.pending > 0 { html += "<p class=\"note\">\(HTML.escape(t("pending_count"))): \(b.pending)</p>" }
        if !b.history.isEmpty {
            html += "<h2>\(HTML.escape(t("history")))</h2><table id=\"history\">"
            for e in b.history {
                let day = Date(timeIntervalSince1970: Double(e.claimedAtMilliseconds) / 1000).formatted(.iso8601.year().month().day())
                let points = e.state == .credited ? "+\(e.points)" : t("state_\(e.state.rawValue)")
                html += "<tr data-state=\"\(e.state.rawValue)\"><td>\(day)</td><td>\(HTML.escape(e.kiosk))</td><td>\(HTML.escape(e.category.map(bin) ?? ""))</td><td>\(HTML.escape(points))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</section>"
    }
}
