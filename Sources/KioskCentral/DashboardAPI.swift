import Central
import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import Logging
import NIOCore
import SyncWire

/// The operators' side of `kiosk-central`: sign-in, the dashboard pages, `GET /api/v1/stats` and the CSV export.
/// Operators sign in with a password (session cookie: HttpOnly, SameSite=Strict; forms carry a CSRF token) or call
/// the JSON API with HTTP Basic. Kiosk tokens are not accepted here, and nothing here writes records.
struct DashboardAPI: Sendable {
    let store: CentralStore
    let calendar: Calendar
    let secureCookies: Bool
    let logger: Logger
    let sessions = Sessions()
    let limiter = LoginLimiter()
    let checker: PasswordChecker
    /// The catalogue's quiz (texts and bins of the questions), for the quiz section.
    let quiz: [QuizQuestion]
    /// A kiosk not heard from for longer is marked silent.
    let silentAfterMilliseconds: Int64

    init(store: CentralStore, calendar: Calendar, secureCookies: Bool, logger: Logger, quiz: [QuizQuestion] = [],
         silentAfterMilliseconds: Int64 = 30 * 60_000) {
        self.quiz = quiz
        self.silentAfterMilliseconds = silentAfterMilliseconds
        self.store = store
        self.calendar = calendar
        self.secureCookies = secureCookies
        self.logger = logger
        checker = PasswordChecker(store: store)
    }

    /// A request that cannot be served, with its status and one line saying why.
    struct Problem: Error {
        var status: HTTPResponse.Status
        var message: String
        var retryAfterSeconds: Int?

        init(status: HTTPResponse.Status, message: String, retryAfterSeconds: Int? = nil) {
            self.status = status
            self.message = message
            self.retryAfterSeconds = retryAfterSeconds
        }

        /// A store failure, answered as `StorageStatus` says.
        init(_ error: CentralError) {
            let s = StorageStatus(error)
            self.init(status: s.status, message: "storage: \(error)", retryAfterSeconds: s.retryAfterSeconds)
        }
    }

    /// Runs a store call, turning its failure into a Problem (and logging the ones an operator must look at).
    private func storage<R>(_ body: () async throws(CentralError) -> R) async throws(Problem) -> R {
        do {
            return try await body()
        } catch {
            if StorageStatus.isFault(error) { logger.error("storage failed", metadata: ["reason": "\(error)"]) }
            throw Problem(error)
        }
    }

    func add(to router: Router<CentralContext>) {
        router.get("/") { request, _ -> Response in
            Self.redirect("/dashboard" + (request.uri.query.map { "?" + $0 } ?? ""))
        }
        router.get("login") { request, _ -> Response in
            let language = Self.language(request)
            let csrf = Token.random()
            return html(.ok, DashboardPage.login(language: language, csrf: csrf, error: nil), cookies: [cookie("kc_csrf", csrf, maxAge: 3600)])
        }
        router.post("login") { request, context -> Response in await login(request, context) }
        router.post("logout") { request, _ -> Response in await logout(request) }
        router.get("dashboard") { request, context -> Response in await page(request, context, kiosk: nil) }
        router.get("dashboard/kiosk/:name") { request, context -> Response in
            await page(request, context, kiosk: context.parameters.get("name") ?? "")
        }
        router.get("api/v1/stats") { request, context -> Response in await stats(request, context) }
        router.get("api/v1/records.csv") { request, context -> Response in await export(request, context) }
        router.get("api/v1/points.csv") { request, context -> Response in await exportPoints(request, context) }
    }

    // MARK: Sign-in

    private func login(_ request: Request, _ context: CentralContext) async -> Response {
        let language = Self.language(request)
        let form = await Self.form(request)
        let cookies = Self.cookies(request)
        let name = form["name"] ?? ""
        // Double-submit CSRF check: the form's token must equal the cookie the login page set.
        let fresh = Token.random()
        guard let sent = form["csrf"], let expected = cookies["kc_csrf"], Token.equal(sent, expected) else {
            return html(.forbidden, DashboardPage.login(language: language, csrf: fresh, error: "CSRF token missing or wrong; reload the page"),
                        cookies: [cookie("kc_csrf", fresh, maxAge: 3600)])
        }
        if let wait = await limiter.retryAfter(peer: context.peer, name: name) {
            var response = html(.tooManyRequests, DashboardPage.login(language: language, csrf: fresh, error: DashboardText.text("locked", language), name: name),
                                cookies: [cookie("kc_csrf", fresh, maxAge: 3600)])
            response.headers[.retryAfter] = String(wait)
            return response
        }
        let ok: Bool
        do {
            ok = KioskName.problem(name) == nil
                ? try await storage { () async throws(CentralError) in try await checker.verify(name: name, password: form["password"] ?? "") }
                : false
        } catch {
            return html(error.status, DashboardPage.login(language: language, csrf: fresh, error: error.message),
                        cookies: [cookie("kc_csrf", fresh, maxAge: 3600)])
        }
        guard ok else {
            await limiter.failed(peer: context.peer, name: name)
            logger.notice("failed sign-in", metadata: ["name": "\(name)", "peer": "\(context.peer)"])
            return html(.unauthorized, DashboardPage.login(language: language, csrf: fresh, error: DashboardText.text("bad_login", language), name: name),
                        cookies: [cookie("kc_csrf", fresh, maxAge: 3600)])
        }
        await limiter.succeeded(name: name)
        let (token, _) = await sessions.create(for: name)
        logger.info("signed in", metadata: ["name": "\(name)", "peer": "\(context.peer)"])
        var response = Self.redirect("/dashboard?lang=\(language.rawValue)")
        response.headers.append(HTTPField(name: .setCookie, value: cookie("kc_session", token, maxAge: Int(Sessions.lifetime / .seconds(1)))))
        response.headers.append(HTTPField(name: .setCookie, value: cookie("kc_csrf", "", maxAge: 0)))
        return response
    }

    private func logout(_ request: Request) async -> Response {
        let form = await Self.form(request)
        guard let token = Self.cookies(request)["kc_session"], let session = await sessions.session(for: token) else {
            return Self.redirect("/login")
        }
        guard let sent = form["csrf"], Token.equal(sent, session.csrf) else {
            return text(.forbidden, "CSRF token missing or wrong")
        }
        await sessions.end(token)
        var response = Self.redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: cookie("kc_session", "", maxAge: 0)))
        return response
    }

    // MARK: Pages and API

    private func page(_ request: Request, _ context: CentralContext, kiosk: String?) async -> Response {
        let language = Self.language(request)
        guard let token = Self.cookies(request)["kc_session"], let session = await sessions.session(for: token) else {
            return Self.redirect("/login?lang=\(language.rawValue)")
        }
        do {
            var query = try Self.statsQuery(request, calendar: calendar)
            if let kiosk { query.kiosk = try Self.kioskName(kiosk) }
            let statistics = try await read(query)
            let kioskFilter = query.kiosk
            let from = query.from, to = query.to
            let totals = try await storage { () async throws(CentralError) in try await store.quizTotals(kiosk: kioskFilter, from: from, to: to) }
            let points = try await storage { () async throws(CentralError) in try await store.pointsTotals(from: from, to: to) }
                .filter { kioskFilter == nil || $0.kiosk == kioskFilter }
            let fleet = try await fleetReport(query)
            return html(.ok, DashboardPage.dashboard(statistics, language: language, operatorName: session.operatorName,
                                                     csrf: session.csrf, kioskNames: statistics.allKiosks,
                                                     quiz: QuizReport(totals: totals, catalogue: quiz), points: points, fleet: fleet))
        } catch let problem as Problem {
            return html(problem.status, DashboardPage.document(title: "\(problem.status.code)", language: language,
                                                               body: "<main><section><p class=\"error\" id=\"error\">\(HTML.escape(problem.message))</p><p><a href=\"/dashboard\">/dashboard</a></p></section></main>"))
        } catch {
            return text(.internalServerError, "internal error")
        }
    }

    /// Health, rollout and field accuracy, for the whole fleet or the one kiosk the page is about.
    private func fleetReport(_ query: StatsQuery) async throws(Problem) -> FleetReport {
        let store = self.store, silentAfterMilliseconds = self.silentAfterMilliseconds
        let kiosk = query.kiosk
        return try await storage { () async throws(CentralError) in
            FleetReport(
                health: try await store.health().filter { kiosk == nil || $0.heartbeat.kiosk == kiosk },
                assigned: try await store.fleetModels().filter { kiosk == nil || $0.kiosk == kiosk },
                models: try await store.models(),
                accuracy: try await store.fieldAccuracy(query),
                now: WallClock.nowMilliseconds, silentAfterMilliseconds: silentAfterMilliseconds)
        }
    }

    private func stats(_ request: Request, _ context: CentralContext) async -> Response {
        do {
            _ = try await apiOperator(request, context)
            let statistics = try await read(try Self.statsQuery(request, calendar: calendar))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return json(.ok, String(decoding: (try? encoder.encode(statistics)) ?? Data(), as: UTF8.self))
        } catch let problem as Problem {
            return problemResponse(problem)
        } catch {
            return json(.internalServerError, #"{"error":"internal error"}"#)
        }
    }

    private func export(_ request: Request, _ context: CentralContext) async -> Response {
        do {
            _ = try await apiOperator(request, context)
            let query = try Self.statsQuery(request, calendar: calendar)
            if let kiosk = query.kiosk, try await storage({ () async throws(CentralError) in try await self.store.tokenHash(forKiosk: kiosk) }) == nil {
                throw Problem(status: .notFound, message: "no kiosk named \(kiosk)")
            }
            let store = self.store, logger = self.logger
            // Streamed in pages of 5,000, so a large export never sits in memory.
            let body = ResponseBody { writer in
                try await writer.write(ByteBuffer(string: ExportRow.csvHeader + "\r\n"))
                var cursor: ExportRow?
                while true {
                    let rows = try await store.exportRecords(query, after: cursor, limit: 5000)
                    if rows.isEmpty { break }
                    try await writer.write(ByteBuffer(string: rows.map(\.csvLine).joined(separator: "\r\n") + "\r\n"))
                    cursor = rows.last
                }
                try await writer.finish(nil)
                logger.debug("export finished")
            }
            let name = "records-\(query.from)-\(query.to)\(query.kiosk.map { "-" + $0 } ?? "").csv"
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"\(name)\""], body: body)
        } catch let problem as Problem {
            return problemResponse(problem)
        } catch {
            return json(.internalServerError, #"{"error":"internal error"}"#)
        }
    }

    /// Points per day and kiosk as CSV (operators only).
    private func exportPoints(_ request: Request, _ context: CentralContext) async -> Response {
        do {
            _ = try await apiOperator(request, context)
            let query = try Self.statsQuery(request, calendar: calendar)
            let totals = try await storage { () async throws(CentralError) in try await store.pointsTotals(from: query.from, to: query.to) }
                .filter { query.kiosk == nil || $0.kiosk == query.kiosk }
            let csv = ([PointsTotal.csvHeader] + totals.map(\.csvLine)).joined(separator: "\r\n") + "\r\n"
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"points-\(query.from)-\(query.to).csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: csv)))
        } catch let problem as Problem {
            return problemResponse(problem)
        } catch {
            return json(.internalServerError, #"{"error":"internal error"}"#)
        }
    }

    private func read(_ query: StatsQuery) async throws -> FleetStatistics {
        if let kiosk = query.kiosk, try await storage({ () async throws(CentralError) in try await store.tokenHash(forKiosk: kiosk) }) == nil {
            throw Problem(status: .notFound, message: "no kiosk named \(kiosk)")
        }
        return try await storage { () async throws(CentralError) in try await store.statistics(query, today: CivilDay.today(in: calendar)) }
    }

    /// The operator calling the JSON API: HTTP Basic, or a signed-in session's cookie. Kiosk tokens are refused.
    private func apiOperator(_ request: Request, _ context: CentralContext) async throws -> String {
        if let authorization = request.headers[.authorization] {
            if authorization.hasPrefix("Bearer ") {
                throw Problem(status: .unauthorized, message: "kiosk tokens cannot read statistics; use an operator's name and password")
            }
            guard authorization.hasPrefix("Basic "), let decoded = Data(base64Encoded: String(authorization.dropFirst(6))),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { throw Problem(status: .unauthorized, message: "malformed Authorization header (expected Basic)") }
            let name = String(text[..<colon]), password = String(text[text.index(after: colon)...])
            if let wait = await limiter.retryAfter(peer: context.peer, name: name) {
                throw Problem(status: .tooManyRequests, message: "too many failed sign-ins; retry after \(wait) s")
            }
            let valid = KioskName.problem(name) == nil
                ? try await storage { () async throws(CentralError) in try await checker.verify(name: name, password: password) }
                : false
            guard valid else {
                await limiter.failed(peer: context.peer, name: name)
                throw Problem(status: .unauthorized, message: "wrong operator name or password")
            }
            await limiter.succeeded(name: name)
            return name
        }
        if let token = Self.cookies(request)["kc_session"], let session = await sessions.session(for: token) {
            return session.operatorName
        }
        throw Problem(status: .unauthorized, message: "sign in: HTTP Basic with an operator's name and password")
    }

    // MARK: Input

    /// `from`, `to` (YYYY-MM-DD, local days, inclusive; default the last 30 days), `kiosk`.
    static func statsQuery(_ request: Request, calendar: Calendar) throws -> StatsQuery {
        let parameters = request.uri.queryParameters
        let today = CivilDay.today(in: calendar)
        func day(_ key: String) throws -> CivilDay? {
            guard let raw = parameters.get(key), !raw.isEmpty else { return nil }
            guard let d = CivilDay(parsing: raw) else { throw Problem(status: .badRequest, message: "\(key): expected a date YYYY-MM-DD, not \"\(raw.prefix(40))\"") }
            return d
        }
        let to = try day("to") ?? today
        let from = try day("from") ?? to.adding(days: -29)
        guard from <= to else { throw Problem(status: .badRequest, message: "from (\(from)) is after to (\(to))") }
        let days = to.ordinal - from.ordinal + 1
        guard days <= StatsQuery.maximumDays else {
            throw Problem(status: .badRequest, message: "the range is \(days) days; at most \(StatsQuery.maximumDays)")
        }
        let kiosk = try parameters.get("kiosk").flatMap { $0.isEmpty ? nil : try kioskName($0) }
        return StatsQuery(from: from, to: to, kiosk: kiosk)
    }

    static func kioskName(_ name: String) throws -> String {
        if let problem = KioskName.problem(name) { throw Problem(status: .badRequest, message: "kiosk: \(problem)") }
        return name
    }

    static func language(_ request: Request) -> Language {
        request.uri.queryParameters.get("lang").flatMap(Language.init(rawValue:)) ?? .zh
    }

    static func cookies(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { result[pair[0]] = pair[1] }
            }
        }
        return result
    }

    /// An `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func form(_ request: Request) async -> [String: String] {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 16 * 1024) else { return [:] }
        var result: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if kv.count == 2 { result[kv[0]] = kv[1] } else if kv.count == 1 { result[kv[0]] = "" }
        }
        return result
    }

    // MARK: Output

    private func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secureCookies ? "; Secure" : "")
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    private func html(_ status: HTTPResponse.Status, _ page: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                   .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"]
        for c in cookies { headers.append(HTTPField(name: .setCookie, value: c)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    private func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    private func problemResponse(_ problem: Problem) -> Response {
        let data = (try? WireJSON.encoder().encode(ErrorResponse(error: problem.message))) ?? Data()
        var response = json(problem.status, String(decoding: data, as: UTF8.self))
        if let seconds = problem.retryAfterSeconds { response.headers[.retryAfter] = String(seconds) }
        if problem.status == .unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"kiosk-central\", charset=\"UTF-8\"" }
        return response
    }
}
