import Central
import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import Logging
import NIOCore
import SyncWire

/// `POST /api/v1/heartbeat`: a kiosk's report on itself with each sync (its token; its own name only).
struct HeartbeatAPI: Sendable {
    let ingest: Ingest
    let logger: Logger

    func add(to router: Router<CentralContext>) {
        router.post("api/v1/heartbeat") { request, _ -> Response in
            do {
                let kiosk = try await ingest.authenticate(authorization: request.headers[.authorization])
                var request = request
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: Heartbeat.maximumBodyBytes)
                } catch {
                    return json(.contentTooLarge, "heartbeat larger than \(Heartbeat.maximumBodyBytes) bytes")
                }
                let beat: Heartbeat
                do {
                    beat = try WireJSON.decoder().decode(Heartbeat.self, from: Data(buffer: body))
                } catch {
                    return json(.badRequest, "not a heartbeat: \(error)")
                }
                if let problem = beat.problem() { return json(.badRequest, problem) }
                guard beat.kiosk == kiosk else { return json(.forbidden, "this token belongs to kiosk \(kiosk), not \(beat.kiosk)") }
                try await ingest.store.recordHeartbeat(beat, receivedAtMilliseconds: WallClock.nowMilliseconds)
                return Response(status: .noContent)
            } catch Ingest.Rejection.unauthorized(let message) {
                return json(.unauthorized, message)
            } catch let error as CentralError {
                logger.error("heartbeat not stored", metadata: ["reason": "\(error)"])
                let s = StorageStatus(error)
                return json(s.status, "storage: \(error)")
            } catch {
                return json(.internalServerError, "internal error")
            }
        }
    }

    private func json(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let data = (try? WireJSON.encoder().encode(ErrorResponse(error: message))) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
