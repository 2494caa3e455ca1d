import Central
import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import Logging
import NIOCore

/// Residents' points: the page a kiosk's QR code opens (`GET /resident/claim?c=CODE`), its form (`POST
/// /resident/claim`), the balance (`/resident/points`), and the same as JSON (`POST /api/v1/claims`, `POST
/// /api/v1/points`). Every claim and balance request counts toward one address's limit, so neither PINs nor codes
/// can be tried in bulk.
struct ClaimAPI: Sendable {
    let claims: Claims
    /// For the bins' names in the history.
    let catalogue: Catalogue?
    let limiter: UploadLimiter
    let logger: Logger

    func add(to router: Router<CentralContext>) {
        router.get("resident/claim") { request, _ -> Response in
            let language = ResidentAPI.language(request)
            let code = request.uri.queryParameters.get("c").map { String($0) } ?? ""
            return ResidentAPI.html(.ok, ClaimPage.claimForm(code: code, language: language))
        }
        router.post("resident/claim") { request, context -> Response in
            let form = await DashboardAPI.form(request)
            let language = form["lang"].flatMap(Language.init(rawValue:)) ?? ResidentAPI.language(request)
            return page(await claim(code: form["c"], nickname: form["nickname"], pin: form["pin"], context), language: language)
        }
        router.get("resident/points") { request, _ -> Response in
            ResidentAPI.html(.ok, ClaimPage.balanceForm(language: ResidentAPI.language(request)))
        }
        router.post("resident/points") { request, context -> Response in
            let form = await DashboardAPI.form(request)
            let language = form["lang"].flatMap(Language.init(rawValue:)) ?? ResidentAPI.language(request)
            return page(await balance(nickname: form["nickname"], pin: form["pin"], context), language: language)
        }
        router.post("api/v1/claims") { request, context -> Response in
            let body = await Self.json(request)
            return json(await claim(code: body["code"], nickname: body["nickname"], pin: body["pin"], context))
        }
        router.post("api/v1/points") { request, context -> Response in
            let body = await Self.json(request)
            return json(await balance(nickname: body["nickname"], pin: body["pin"], context))
        }
    }

    /// A claim from the form or the JSON API.
    private func claim(code: String?, nickname: String?, pin: String?, _ context: CentralContext) async -> ClaimPage.Outcome {
        await run(context) { () throws(ClaimRefusal) -> ClaimPage.Outcome in
            let (entry, balance) = try await claims.claim(code: code ?? "", login: try ResidentLogin(nickname: nickname ?? "", pin: pin ?? ""))
            return .claimed(entry, balance)
        }
    }

    /// A balance from the form or the JSON API.
    private func balance(nickname: String?, pin: String?, _ context: CentralContext) async -> ClaimPage.Outcome {
        await run(context) { () throws(ClaimRefusal) -> ClaimPage.Outcome in
            .balance(try await claims.balance(login: try ResidentLogin(nickname: nickname ?? "", pin: pin ?? "")))
        }
    }

    /// Runs one claim or balance request within the address's limit, turning refusals into outcomes.
    private func run(_ context: CentralContext, _ body: () async throws(ClaimRefusal) -> ClaimPage.Outcome) async -> ClaimPage.Outcome {
        if let wait = await limiter.admit(peer: context.peer) {
            return .refused(.locked("too many attempts from this address; try again in \(wait) s", retryAfter: wait))
        }
        do {
            return try await body()
        } catch {
            if case .storage(let e) = error { logger.error("claim not handled", metadata: ["reason": "\(e)"]) }
            return .refused(error)
        }
    }

    static func status(_ refusal: ClaimRefusal) -> HTTPResponse.Status {
        switch refusal {
        case .invalid: .badRequest
        case .forged, .wrongPIN: .forbidden
        case .expired: .gone
        case .claimedAlready, .void: .conflict
        case .unknownResident: .notFound
        case .locked: .tooManyRequests
        case .storage(let e): StorageStatus(e, ingest: false).status
        }
    }

    private func page(_ outcome: ClaimPage.Outcome, language: Language) -> Response {
        let page = ClaimPage.render(outcome, language: language) { catalogue?.info(for: $0).name[language] ?? $0.rawValue }
        var response = ResidentAPI.html(.ok, page)
        if case .refused(let refusal) = outcome {
            response.status = Self.status(refusal)
            if case .locked(_, let wait) = refusal { response.headers[.retryAfter] = String(wait) }
        }
        return response
    }

    struct Answer: Encodable {
        var claim: ClaimEntry?
        var balance: PointsBalance?
    }

    private func json(_ outcome: ClaimPage.Outcome) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch outcome {
        case .claimed(let entry, let balance):
            return ClassifyAPI.json(.ok, String(decoding: (try? encoder.encode(Answer(claim: entry, balance: balance))) ?? Data(), as: UTF8.self))
        case .balance(let balance):
            return ClassifyAPI.json(.ok, String(decoding: (try? encoder.encode(Answer(balance: balance))) ?? Data(), as: UTF8.self))
        case .refused(let refusal):
            var response = ClassifyAPI.error(Self.status(refusal), refusal.description)
            if case .locked(_, let wait) = refusal { response.headers[.retryAfter] = String(wait) }
            return response
        }
    }

    /// A JSON object of strings (at most 4 KiB); anything else reads as empty, which the rules then refuse.
    static func json(_ request: Request) async -> [String: String] {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 4096) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: Data(buffer: buffer))) ?? [:]
    }
}
