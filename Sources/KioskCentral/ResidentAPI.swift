import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import NIOCore

/// The residents' side of `kiosk-central`, without sign-in: the page for phones (`GET /resident`: photo, search,
/// quiz) and the item search (`GET /api/v1/items?q=电池&lang=zh`). Both need `serve --catalogue`; the photo
/// itself is `ClassifyAPI`'s.
struct ResidentAPI: Sendable {
    /// nil when the server was started without `--catalogue`: the routes answer 503.
    let catalogue: Catalogue?
    /// Whether `POST /api/v1/classify` can answer (the page hides the photo button otherwise).
    let classifies: Bool
    private let search: ItemSearch?
    /// The bins' icons, when the server found them.
    let icons: IconFiles?

    init(catalogue: Catalogue?, classifies: Bool, icons: IconFiles? = nil) {
        self.catalogue = catalogue
        self.classifies = classifies
        self.icons = icons
        search = catalogue.map { ItemSearch(items: $0.items ?? []) }
    }

    func add(to router: Router<CentralContext>) {
        router.get("api/v1/items") { request, _ -> Response in items(request) }
        router.get("resident") { request, _ -> Response in page(request) }
        router.get("resident/app.js") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: ResidentPage.script)))
        }
    }

    /// One search hit as the API answers it.
    struct Item: Encodable {
        var name: String
        var matched: String
        var category: String
        var bin: String
        var colour: String
        var guidance: [String]
    }

    struct ItemsAnswer: Encodable {
        var query: String
        var language: String
        var items: [Item]
    }

    /// The query, or why it cannot be searched.
    enum Query {
        case absent
        case empty
        case search(String)
        case refused(String)

        init(_ request: Request) {
            guard let q = request.uri.queryParameters.get("q") else { self = .absent; return }
            // Control characters (NUL among them) are never part of a name, and Foundation's string search on Linux
            // cannot take NULs.
            if q.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) {
                self = .refused("q contains control characters")
                return
            }
            let trimmed = q.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty {
                self = .empty
            } else if trimmed.count > ItemSearch.maximumQueryLength {
                self = .refused("q is \(trimmed.count) characters long; at most \(ItemSearch.maximumQueryLength) are searched")
            } else {
                self = .search(trimmed)
            }
        }
    }

    static let maximumLimit = 50

    private func items(_ request: Request) -> Response {
        guard let catalogue, let search else {
            return ClassifyAPI.error(.serviceUnavailable, "item search is not set up on this server (serve --catalogue)")
        }
        let language = Self.language(request)
        var limit = 10
        if let text = request.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...Self.maximumLimit).contains(n) else {
                return ClassifyAPI.error(.badRequest, "limit must be a whole number from 1 to \(Self.maximumLimit), not \(text)")
            }
            limit = n
        }
        switch Query(request) {
        case .absent:
            return ClassifyAPI.error(.badRequest, "q is missing: give a name to search for, e.g. ?q=电池")
        case .empty:
            return ClassifyAPI.error(.badRequest, "q is empty: give a name to search for, e.g. ?q=电池")
        case .refused(let message):
            return ClassifyAPI.error(.badRequest, message)
        case .search(let q):
            let answer = ItemsAnswer(query: q, language: language.rawValue,
                                     items: Self.hits(search.search(q, limit: limit), catalogue: catalogue, language: language))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return ClassifyAPI.json(.ok, String(decoding: (try? encoder.encode(answer)) ?? Data(), as: UTF8.self))
        }
    }

    static func hits(_ matches: [ItemSearch.Match], catalogue: Catalogue, language: Language) -> [Item] {
        matches.map { match in
            let bin = catalogue.info(for: match.item.category)
            return Item(name: match.item.name[language], matched: match.matched, category: bin.id.rawValue,
                        bin: bin.name[language], colour: bin.color,
                        guidance: catalogue.guidance(for: match.item, language: language))
        }
    }

    private func page(_ request: Request) -> Response {
        let language = Self.language(request)
        guard let catalogue, let search else {
            return Self.html(.serviceUnavailable, ResidentPage.unavailable(language: language, reason: language == .zh ? "本服务器未开启居民服务。" : "The residents' service is not set up on this server."))
        }
        var status = HTTPResponse.Status.ok
        var content = ResidentPage.Content(language: language, classifies: classifies)
        content.icon = { info in icons?.url(for: info) }
        switch Query(request) {
        case .absent, .empty: break
        case .refused:
            status = .badRequest
            content.searchError = ResidentText.text("query_too_long", language)
            content.query = request.uri.queryParameters.get("q").map { String($0) } ?? ""
        case .search(let q):
            content.query = q
            content.results = Self.hits(search.search(q), catalogue: catalogue, language: language)
        }
        // The quiz: an answer to a question (its feedback), then a new question.
        let quiz = catalogue.quiz ?? []
        var previousID: String?
        if let id = request.uri.queryParameters.get("quiz").map({ String($0) }) {
            previousID = id
            guard let answer = request.uri.queryParameters.get("answer").flatMap({ WasteCategory(rawValue: String($0)) }) else {
                return Self.html(.badRequest, ResidentPage.unavailable(language: language, reason: "answer must be one of the bins: "
                    + WasteCategory.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            // A link from before the catalogue changed: a new question instead.
            if let question = quiz.first(where: { $0.id == id }) {
                content.feedback = .init(question: question, answer: answer)
            } else {
                content.quizError = ResidentText.text("unknown_question", language)
            }
        }
        content.question = quiz.filter { $0.id != previousID }.randomElement() ?? quiz.first
        content.lesson = catalogue.lessons?.randomElement()
        return Self.html(status, ResidentPage.render(content, catalogue: catalogue))
    }

    /// `?lang=` when given, else the phone's first preference between Chinese and English, else Chinese.
    static func language(_ request: Request) -> Language {
        if let lang = request.uri.queryParameters.get("lang").flatMap({ Language(rawValue: String($0)) }) { return lang }
        for part in (request.headers[.acceptLanguage] ?? "").split(separator: ",") {
            let tag = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            if tag.hasPrefix("zh") { return .zh }
            if tag.hasPrefix("en") { return .en }
        }
        return .zh
    }

    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ], body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
