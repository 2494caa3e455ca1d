import Central
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SyncWire

/// `/api/v1/model` (the model assigned to the asking kiosk, as a signed manifest) and `/api/v1/models/VERSION`
/// (the file, with `Range` so that a download cut halfway resumes). Both need the kiosk's token.
struct ModelAPI: Sendable {
    let ingest: Ingest
    let files = ModelFileCache()
    let logger: Logger

    func add(to router: Router<CentralContext>) {
        router.get("api/v1/model") { request, _ -> Response in
            do {
                let kiosk = try await ingest.authenticate(authorization: request.headers[.authorization])
                guard let model = try await ingest.store.assignedModel(kiosk: kiosk) else { return Response(status: .noContent) }
                let answer = ModelAssignment(signed: model.signedManifest, path: "api/v1/models/\(model.version)")
                return json(.ok, try WireJSON.encoder().encode(answer))
            } catch {
                return failure(error)
            }
        }
        router.get("api/v1/models/:version") { request, context -> Response in
            do {
                _ = try await ingest.authenticate(authorization: request.headers[.authorization])
                let version = context.parameters.get("version") ?? ""
                guard version.count == 64, version.allSatisfy(\.isHexDigit) else {
                    return json(.badRequest, ErrorResponse(error: "model version must be 64 hex digits"))
                }
                guard let bytes = try await files.file(version: version, store: ingest.store) else {
                    return json(.notFound, ErrorResponse(error: "no model \(version.prefix(16))"))
                }
                return Self.ranged(bytes, range: request.headers[.range])
            } catch {
                return failure(error)
            }
        }
    }

    /// The whole file, or the part a `Range: bytes=START-[END]` asks for (206); a range past the end is 416.
    static func ranged(_ bytes: [UInt8], range: String?) -> Response {
        var headers: HTTPFields = [.contentType: "application/octet-stream", .acceptRanges: "bytes"]
        guard let range else {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let total = bytes.count
        guard let (start, end) = parse(range, total: total) else {
            headers[.contentRange] = "bytes */\(total)"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        }
        headers[.contentRange] = "bytes \(start)-\(end)/\(total)"
        return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes[start...end])))
    }

    /// One range of the form `bytes=START-` or `bytes=START-END` inside the file, as closed bounds.
    static func parse(_ header: String, total: Int) -> (Int, Int)? {
        guard header.hasPrefix("bytes="), total > 0 else { return nil }
        let spec = header.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), start >= 0, start < total else { return nil }
        if parts[1].isEmpty { return (start, total - 1) }
        guard let end = Int(parts[1]), end >= start else { return nil }
        return (start, min(end, total - 1))
    }

    private func failure(_ error: any Error) -> Response {
        switch error {
        case Ingest.Rejection.unauthorized(let message): return json(.unauthorized, ErrorResponse(error: message))
        default:
            logger.error("model request failed", metadata: ["reason": "\(error)"])
            return json(.serviceUnavailable, ErrorResponse(error: "storage unavailable"))
        }
    }

    private func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let data = (try? WireJSON.encoder().encode(value)) ?? Data()
        return json(status, data)
    }

    private func json(_ status: HTTPResponse.Status, _ data: Data) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The last model file read, so that a fleet downloading one rollout does not read 24 MB from the database for
/// every request (files never change under a version: it is their checksum).
actor ModelFileCache {
    private var held: (version: String, bytes: [UInt8])?

    func file(version: String, store: CentralStore) async throws -> [UInt8]? {
        if let held, held.version == version { return held.bytes }
        guard let bytes = try await store.modelFile(version: version) else { return nil }
        held = (version, bytes)
        return bytes
    }
}
