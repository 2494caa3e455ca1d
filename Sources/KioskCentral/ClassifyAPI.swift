import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import KioskCore
import Logging
import NIOCore

/// `POST /api/v1/classify?lang=zh|en`: a resident's photo as the body (image/jpeg or image/png), answered with
/// the bin, the item and its guidance, by the kiosk's own model. No sign-in; photos are never stored. Each
/// address may send `UploadLimiter.perPeer` photos a minute; a body over `PhotoUpload.maximumBytes` is cut off
/// unread.
struct ClassifyAPI: Sendable {
    /// nil when the server was started without `--model` and `--catalogue`: the route answers 503.
    let classifier: ResidentClassifier?
    let limiter: UploadLimiter
    let logger: Logger

    func add(to router: Router<CentralContext>) {
        router.post("api/v1/classify") { request, context -> Response in await classify(request, context) }
    }

    private func classify(_ request: Request, _ context: CentralContext) async -> Response {
        guard let classifier else {
            return Self.error(.serviceUnavailable, "classification is not set up on this server (serve --model and --catalogue)")
        }
        if let wait = await limiter.admit(peer: context.peer) {
            var response = Self.error(.tooManyRequests, "too many photos from this address; try again in \(wait) s")
            response.headers[.retryAfter] = String(wait)
            return response
        }
        // Too large: answered at once and the connection closed, so the rest of the body is never read.
        var tooLarge = Self.error(.contentTooLarge, "the photo is larger than \(PhotoUpload.maximumBytes) bytes")
        tooLarge.headers[.connection] = "close"
        if let length = request.headers[.contentLength].flatMap(Int.init), length > PhotoUpload.maximumBytes { return tooLarge }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: PhotoUpload.maximumBytes)
        } catch {
            return tooLarge
        }
        let image: RGBImage
        do {
            image = try PhotoUpload.decode([UInt8](buffer: body), contentType: request.headers[.contentType],
                                           minimumShorterSide: classifier.decodeShorterSide)
        } catch {
            return Self.error(HTTPResponse.Status(code: error.status), error.description)
        }
        do {
            let answer = try await classifier.answer(image, language: DashboardAPI.language(request))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Self.json(.ok, String(decoding: try encoder.encode(answer), as: UTF8.self))
        } catch {
            logger.error("classification failed", metadata: ["reason": "\(error)"])
            return Self.error(.internalServerError, "the photo could not be classified")
        }
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = (try? encoder.encode(["error": message])) ?? Data()
        return json(status, String(decoding: data, as: UTF8.self))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Uploads per address within a sliding minute; over the limit, how long until one more is admitted.
actor UploadLimiter {
    let perPeer: Int
    let window: Duration
    private var recent: [String: [ContinuousClock.Instant]] = [:]

    init(perPeer: Int = 30, window: Duration = .seconds(60)) {
        self.perPeer = perPeer
        self.window = window
    }

    /// Counts an upload from `peer` and returns nil, or refuses it and returns the seconds to wait.
    func admit(peer: String, now: ContinuousClock.Instant = .now) -> Int? {
        let kept = (recent[peer] ?? []).filter { now - $0 < window }
        if kept.count >= perPeer, let first = kept.first {
            recent[peer] = kept
            return max(1, Int(((window - (now - first)) / .seconds(1)).rounded(.up)))
        }
        recent[peer] = kept + [now]
        if recent.count > 100_000 { recent = recent.filter { !$0.value.isEmpty && now - $0.value.last! < window } }
        return nil
    }
}
