import KioskCore

/// The page residents open on their phones: one column, large targets, in either language; the photo answer is
/// drawn by `script`, the search and the quiz work without JavaScript (plain links and a GET form).
enum ResidentPage {
    struct Feedback {
        var question: QuizQuestion
        var answer: WasteCategory
    }

    struct Content {
        var language: Language
        var classifies: Bool
        var query = ""
        var results: [ResidentAPI.Item]?
        var searchError: String?
        var feedback: Feedback?
        var quizError: String?
        var question: QuizQuestion?
        var lesson: Lesson?
        /// A bin's icon URL, nil when the server has no icons.
        var icon: (CategoryInfo) -> String? = { _ in nil }

        /// A bin's name in its colour, with its icon.
        func chip(_ info: CategoryInfo) -> String {
            let image = icon(info).map { "<img src=\"\($0)\" alt=\"\" width=\"26\" height=\"26\">" } ?? ""
            return "<span class=\"bin\" style=\"background:\(info.color)\">\(image)\(HTML.escape(info.name[language]))</span>"
        }
    }

    static let style = """
        *{box-sizing:border-box}body{margin:0;font:18px/1.5 system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:#1b1f24;background:#eef2ee}
        header{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:12px 16px;background:#0b5d3b;color:#fff}
        header h1{font-size:22px;margin:0}header a{color:#fff;font-size:18px;padding:8px 12px;border:1px solid #fff8;border-radius:8px;text-decoration:none}
        main{max-width:640px;margin:0 auto;padding:8px 12px 32px}section{background:#fff;border-radius:12px;padding:14px 16px;margin:14px 0;box-shadow:0 1px 3px #0002}
        h2{font-size:20px;margin:2px 0 10px}.intro{margin:12px 4px;color:#333}.note{color:#555;font-size:15px}
        .big{display:block;width:100%;text-align:center;font-size:20px;padding:18px;border-radius:12px;background:#0b5d3b;color:#fff;cursor:pointer;border:0}
        form.search{display:flex;gap:8px}form.search input{flex:1;min-width:0;font:inherit;padding:12px;border:2px solid #9aa5a0;border-radius:10px}
        form.search button{font:inherit;padding:12px 18px;border:0;border-radius:10px;background:#0b5d3b;color:#fff}
        ul.hits{list-style:none;padding:0;margin:12px 0 0}ul.hits>li{padding:10px 0;border-top:1px solid #e3e6ea}
        .bin{display:inline-flex;align-items:center;gap:6px;color:#fff;font-weight:bold;border-radius:8px;padding:2px 10px 2px 4px;margin-right:8px;vertical-align:middle}
        .guidance{margin:6px 0 0;padding-left:22px;color:#333}.answer{margin-top:14px}.answer .item{font-size:22px;font-weight:bold}
        .answer img{max-width:100%;max-height:220px;border-radius:8px;display:block;margin-bottom:8px}
        .question{font-size:20px;font-weight:bold}.choices{display:grid;grid-template-columns:1fr 1fr;gap:10px}
        .choice{display:block;text-align:center;padding:16px 8px;border-radius:10px;color:#fff;font-weight:bold;text-decoration:none;font-size:18px}
        .feedback{border-left:6px solid;padding:8px 12px;margin-bottom:12px;background:#f6f7f6}.feedback.right{border-color:#00843d}.feedback.wrong{border-color:#d7000f}
        .lesson{margin-top:14px;color:#333}.error{color:#b00020;font-weight:bold}
        @media (min-width:900px){main{max-width:880px}.choices{grid-template-columns:repeat(3,1fr)}}
        """

    static func document(title: String, language: Language, body: String) -> String {
        """
        <!doctype html><html lang="\(language == .zh ? "zh-CN" : "en")"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1"><title>\(HTML.escape(title))</title>
        <style>\(style)</style></head><body>\(body)</body></html>
        """
    }

    /// A page with one line saying why it cannot be shown.
    static func unavailable(language: Language, reason: String) -> String {
        let t = { ResidentText.text($0, language) }
        return document(title: t("title"), language: language, body: """
            <header><h1>\(HTML.escape(t("title")))</h1></header><main><section><p class="error" id="error">\(HTML.escape(reason))</p>\
            <p><a href="/resident?lang=\(language.rawValue)">\(HTML.escape(t("title")))</a></p></section></main>
            """)
    }

    static func render(_ c: Content, catalogue: Catalogue) -> String {
        let language = c.language
        let t = { ResidentText.text($0, language) }
        let other: Language = language == .zh ? .en : .zh
        let switchQuery = "lang=\(other.rawValue)" + (c.query.isEmpty ? "" : "&q=\(HTML.query(c.query))")
        var body = """
            <header><h1>\(HTML.escape(t("title")))</h1><a id="language" href="/resident?\(switchQuery)">\(other == .zh ? "中文" : "English")</a></header>
            <main><p class="intro">\(HTML.escape(t("intro")))</p>
            """
        // Photo
        body += "<section id=\"photo-section\"><h2>\(HTML.escape(t("photo")))</h2>"
        if c.classifies {
            body += """
                <label class="big" for="photo" id="photo-button">\(HTML.escape(t("photo_button")))</label>
                <input type="file" id="photo" accept="image/jpeg,image/png" capture="environment" hidden
                 data-lang="\(language.rawValue)" data-working="\(HTML.escape(t("working")))" data-not-sure="\(HTML.escape(t("not_sure")))"
                 data-confidence="\(HTML.escape(t("confidence")))" data-failed="\(HTML.escape(t("photo_failed")))">
                <p class="note">\(HTML.escape(t("photo_note")))</p><div id="answer" class="answer" aria-live="polite"></div>
                """
        } else {
            body += "<p class=\"note\" id=\"no-engine\">\(HTML.escape(t("no_engine")))</p>"
        }
        body += "</section>"
        // Search
        body += """
            <section id="search"><h2>\(HTML.escape(t("search")))</h2>
            <form class="search" method="get" action="/resident#search"><input type="hidden" name="lang" value="\(language.rawValue)">
            <input type="search" name="q" id="q" maxlength="\(ItemSearch.maximumQueryLength)" value="\(HTML.escape(c.query))"
             placeholder="\(HTML.escape(t("search_placeholder")))" aria-label="\(HTML.escape(t("search")))" enterkeyhint="search">
            <button type="submit" id="search-button">\(HTML.escape(t("search_button")))</button></form>
            """
        if let error = c.searchError { body += "<p class=\"error\" id=\"search-error\">\(HTML.escape(error))</p>" }
        if let results = c.results {
            if results.isEmpty {
                body += "<p id=\"no-results\">\(HTML.escape(t("no_results")))</p>"
            } else {
                body += "<ul class=\"hits\" id=\"results\">"
                for hit in results {
                    let info = catalogue.categories.first { $0.id.rawValue == hit.category }
                    body += """
                        <li data-category="\(hit.category)">\(info.map(c.chip) ?? "")\
                        <b>\(HTML.escape(hit.name))</b><ul class="guidance">\(hit.guidance.map { "<li>\(HTML.escape($0))</li>" }.joined())</ul></li>
                        """
                }
                body += "</ul>"
            }
        }
        body += "</section>"
        // Quiz
        body += "<section id=\"quiz\"><h2>\(HTML.escape(t("quiz")))</h2>"
        if let error = c.quizError { body += "<p class=\"error\" id=\"quiz-error\">\(HTML.escape(error))</p>" }
        if let f = c.feedback {
            let right = f.answer == f.question.answer
            let bin = catalogue.info(for: f.question.answer)
            body += """
                <div class="feedback \(right ? "right" : "wrong")" id="feedback" data-right="\(right)"><p><b>\(HTML.escape(f.question.question[language]))</b></p>
                <p><b>\(HTML.escape(t(right ? "right" : "wrong")))</b> \(c.chip(bin))</p>
                <p>\(HTML.escape(f.question.reason[language]))</p></div>
                """
        }
        if let q = c.question {
            body += "<p class=\"question\" id=\"question\" data-id=\"\(q.id)\">\(HTML.escape(q.question[language]))</p><div class=\"choices\">"
            for bin in catalogue.categories {
                body += """
                    <a class="choice" style="background:\(bin.color)" data-category="\(bin.id.rawValue)" data-icon="\(c.icon(bin) ?? "")" \
                    href="/resident?lang=\(language.rawValue)&quiz=\(q.id)&answer=\(bin.id.rawValue)#quiz">\(c.icon(bin).map { "<img src=\"\($0)\" alt=\"\" width=\"44\" height=\"44\"><br>" } ?? "")\(HTML.escape(bin.name[language]))</a>
                    """
            }
            body += "</div>"
        }
        if let lesson = c.lesson {
            body += "<p class=\"lesson\"><b>\(HTML.escape(t("did_you_know")))</b> \(HTML.escape(lesson.text[language]))</p>"
        }
        body += "</section></main>"
        if c.classifies { body += "<script src=\"/resident/app.js\"></script>" }
        return document(title: t("title"), language: language, body: body)
    }

    /// The photo button: the picture is made smaller on the phone (at most 1280 px, JPEG) before it is sent, then
    /// the answer is drawn with text nodes only (nothing from the server is parsed as HTML).
    static let script = """
        "use strict";
        (function () {
          const input = document.getElementById("photo");
          const out = document.getElementById("answer");
          if (!input || !out) return;
          const d = input.dataset;
          function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
          const colours = {};
          document.querySelectorAll(".choice").forEach(function (a) { colours[a.dataset.category] = [a.style.background, a.textContent, a.dataset.icon]; });
          function bin(category) {
            const b = el("span", "bin");
            const known = colours[category];
            if (known && known[2]) { const i = el("img"); i.src = known[2]; i.alt = ""; i.width = 26; i.height = 26; b.append(i); }
            b.append(document.createTextNode(known ? known[1] : category));
            if (known) b.style.background = known[0];
            return b;
          }
          async function shrink(file) {
            try {
              const image = await createImageBitmap(file);
              const scale = Math.min(1, 1280 / Math.max(image.width, image.height));
              const canvas = document.createElement("canvas");
              canvas.width = Math.round(image.width * scale); canvas.height = Math.round(image.height * scale);
              canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
              return await new Promise(function (done) { canvas.toBlob(function (b) { done(b || file); }, "image/jpeg", 0.9); });
            } catch (e) { return file; }
          }
          input.addEventListener("change", async function () {
            const file = input.files && input.files[0];
            if (!file) return;
            out.replaceChildren(el("p", "note", d.working));
            const body = await shrink(file);
            let answer, status;
            try {
              const r = await fetch("/api/v1/classify?lang=" + d.lang, { method: "POST", body: body, headers: { "Content-Type": body.type || "image/jpeg" } });
              status = r.status; answer = await r.json();
            } catch (e) { answer = { error: String(e) }; }
            out.replaceChildren();
            const picture = el("img"); picture.src = URL.createObjectURL(body); picture.alt = ""; out.append(picture);
            if (status !== 200) { out.append(el("p", "error", d.failed + ": " + (answer.error || status))); out.dataset.state = "error"; return; }
            const head = el("p"); head.append(bin(answer.category), el("span", "item", answer.item)); out.append(head);
            out.append(el("p", "note", d.confidence + " " + Math.round(answer.confidence * 100) + "%"));
            const list = el("ul", "guidance"); answer.guidance.forEach(function (g) { list.append(el("li", null, g)); }); out.append(list);
            if (answer.not_sure && answer.alternatives.length) {
              out.append(el("p", null, d.notSure));
              const alts = el("ul", "guidance");
              answer.alternatives.forEach(function (a) { const li = el("li"); li.append(bin(a.category), document.createTextNode(a.item)); alts.append(li); });
              out.append(alts);
            }
            out.dataset.state = "answered"; out.dataset.category = answer.category;
          });
        })();
        """
}
