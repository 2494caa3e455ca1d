import ArgumentParser
import Central
import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import Logging
import NIOCore
import SyncWire

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the server.")

    @Option(name: .long, help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port to listen on (0: any free port; the one chosen is printed).")
    var port = 8080

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "Time zone of the statistics' days and hours (IANA name, e.g. Asia/Shanghai). Default: the server's.")
    var timeZone: String?

    @Flag(name: .long, help: "Mark the operators' cookies Secure (when a TLS proxy serves the dashboard).")
    var secureCookies = false

    @Option(name: .long, help: "Kiosk model file for residents' photos (POST /api/v1/classify); needs --catalogue.")
    var model: String?

    @Option(name: .long, help: "Catalogue (bins, items, guidance, quiz) for the resident page (/resident) and item search (GET /api/v1/items).")
    var catalogue: String?

    @Option(name: .long, help: "Folder of the bins' icons for the resident page (default: icons/ next to the catalogue).")
    var icons: String?

    @Option(name: .long, help: "Inference threads for residents' photos.")
    var classifyThreads = 2

    @Option(name: .long, help: "Photos one address may send a minute.")
    var uploadsPerMinute = 30

    @Option(name: .long, help: "Points claims and balance requests one address may send a minute.")
    var claimsPerMinute = 10

    @Option(name: .long, help: "Minutes without a heartbeat after which the dashboard marks a kiosk silent.")
    var silentAfterMinutes = 30.0

    @Option(name: .long, help: "Days field photos are kept (deleted at start and daily after; 0 keeps them until `field-photos delete`).")
    var fieldPhotoDays = CentralStore.fieldPhotoRetentionDays

    @Flag(name: .long, help: "Log each request.")
    var verbose = false

    func validate() throws {
        if model != nil && catalogue == nil { throw ValidationError("--model needs --catalogue (the bins its labels go in)") }
        if !(1...64).contains(classifyThreads) { throw ValidationError("--classify-threads must be between 1 and 64, not \(classifyThreads)") }
        if !(1...10_000).contains(claimsPerMinute) { throw ValidationError("--claims-per-minute must be between 1 and 10000, not \(claimsPerMinute)") }
        if !(0.05...10_080).contains(silentAfterMinutes) { throw ValidationError("--silent-after-minutes must be between 0.05 and 10080, not \(silentAfterMinutes)") }
        if !(0...36_500).contains(fieldPhotoDays) { throw ValidationError("--field-photo-days must be between 0 and 36500, not \(fieldPhotoDays)") }
        if !(1...10_000).contains(uploadsPerMinute) { throw ValidationError("--uploads-per-minute must be between 1 and 10000, not \(uploadsPerMinute)") }
    }

    func run() async throws {
        var logger = Logger(label: "kiosk-central")
        logger.logLevel = verbose ? .debug : .info
        let zone = try DatabaseOptions.timeZone(timeZone)
        let store = try database.open(timeZone: zone)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var loaded: Catalogue?
        var classifier: ResidentClassifier?
        if let catalogue {
            guard let bytes = FileManager.default.contents(atPath: catalogue) else { throw fail("--catalogue \(catalogue): cannot read it") }
            do {
                loaded = try Catalogue(json: Array(bytes), source: catalogue)
            } catch {
                throw fail(error.description)
            }
        }
        if let model, let loaded, let catalogue {
            do {
                classifier = try ResidentClassifier(modelPath: model, catalogue: loaded, cataloguePath: catalogue, threads: classifyThreads)
            } catch {
                throw fail(error.description)
            }
        }
        let router = RecordsAPI(ingest: Ingest(store: store), logger: logger).router()
        ModelAPI(ingest: Ingest(store: store), logger: logger).add(to: router)
        HeartbeatAPI(ingest: Ingest(store: store), logger: logger).add(to: router)
        ClassifyAPI(classifier: classifier, limiter: UploadLimiter(perPeer: uploadsPerMinute), logger: logger).add(to: router)
        var iconFiles: IconFiles?
        if let loaded, let catalogue {
            let folder = icons ?? ((catalogue as NSString).deletingLastPathComponent as NSString).appendingPathComponent("icons")
            let files = IconFiles(directory: folder, catalogue: loaded)
            for problem in files.problems { logger.warning("icon \(problem); the page shows the bin's colour alone") }
            files.add(to: router)
            iconFiles = files
        }
        ResidentAPI(catalogue: loaded, classifies: classifier != nil, icons: iconFiles).add(to: router)
        ClaimAPI(claims: Claims(store: store), catalogue: loaded, limiter: UploadLimiter(perPeer: claimsPerMinute), logger: logger).add(to: router)
        DashboardAPI(store: store, calendar: calendar, secureCookies: secureCookies, logger: logger, quiz: loaded?.quiz ?? [],
                     silentAfterMilliseconds: Int64(silentAfterMinutes * 60_000)).add(to: router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "kiosk-central"),
            onServerRunning: { channel in
                // Scripts and tests read the port from this line.
                let line = "kiosk-central: listening on http://\(host):\(channel.localAddress?.port ?? 0)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
            },
            logger: logger)
        let points = loaded?.points
        let retention = fieldPhotoDays
        let retentionLogger = logger
        try await store.whileRunning { store in
            // Claims are counted with the points of the catalogue the server runs with (kept for bundle imports).
            if let points { try await store.setClaimPoints(points) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                if retention > 0 {
                    group.addTask { await FieldPhotoRetention(days: retention, logger: retentionLogger).run(store) }
                }
                try await app.runService()
                group.cancelAll()
            }
        }
    }
}

/// `/api/v1`: records in, health out.
struct RecordsAPI: Sendable {
    let ingest: Ingest
    let logger: Logger

    func router() -> Router<CentralContext> {
        let router = Router(context: CentralContext.self)
        router.get("api/v1/health") { _, _ -> Response in
            do {
                _ = try await ingest.store.count(kiosk: "")
                return json(.ok, #"{"status":"ok"}"#)
            } catch {
                logger.error("health check: storage failed", metadata: ["reason": "\(error)"])
                return json(.serviceUnavailable, #"{"status":"storage unavailable"}"#)
            }
        }
        router.post("api/v1/records") { request, _ -> Response in
            await records(request)
        }
        // The kiosk a token belongs to: `kiosk enroll` checks its token and takes its name from here.
        router.get("api/v1/enrollment") { request, _ -> Response in
            do {
                let kiosk = try await ingest.authenticate(authorization: request.headers[.authorization])
                let key = try await ingest.store.modelSigningKey()
                let data = (try? WireJSON.encoder().encode(EnrollmentAnswer(kiosk: kiosk, modelKey: key))) ?? Data()
                return json(.ok, String(decoding: data, as: UTF8.self))
            } catch Ingest.Rejection.unauthorized(let message) {
                return json(.unauthorized, String(decoding: (try? WireJSON.encoder().encode(ErrorResponse(error: message))) ?? Data(), as: UTF8.self))
            } catch {
                logger.error("enrollment check failed", metadata: ["reason": "\(error)"])
                return json(.serviceUnavailable, #"{"error":"storage unavailable"}"#)
            }
        }
        return router
    }

    private func records(_ request: Request) async -> Response {
        do {
            let kiosk = try await ingest.authenticate(authorization: request.headers[.authorization])
            var request = request
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: RecordBatch.maximumBodyBytes)
            } catch {
                throw Ingest.Rejection.tooLarge("body larger than \(RecordBatch.maximumBodyBytes) bytes")
            }
            var body = [UInt8](buffer: buffer)
            if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
                guard encoding == "gzip" else { throw Ingest.Rejection.badRequest("Content-Encoding \(encoding) is not supported (gzip is)") }
                do {
                    body = try Gzip.decompress(body, limit: RecordBatch.maximumBodyBytes)
                } catch {
                    throw error == .corrupt ? Ingest.Rejection.badRequest(error.description) : .tooLarge(error.description)
                }
            }
            let response = try await ingest.accept(body: body, from: kiosk)
            logger.debug("batch stored", metadata: ["kiosk": "\(kiosk)", "accepted": "\(response.accepted)", "duplicates": "\(response.duplicates)"])
            let data = (try? WireJSON.encoder().encode(response)) ?? Data()
            return json(.ok, String(decoding: data, as: UTF8.self))
        } catch let rejection as Ingest.Rejection {
            var retryAfter: Int?
            let (status, message, record): (HTTPResponse.Status, String, UUID?) = switch rejection {
            case .unauthorized(let m): (.unauthorized, m, nil)
            case .forbidden(let m): (.forbidden, m, nil)
            case .badRequest(let m): (.badRequest, m, nil)
            case .badRecord(let id, let m): (.badRequest, m, id)
            case .tooLarge(let m): (.contentTooLarge, m, nil)
            case .storage(let error):
                { () -> (HTTPResponse.Status, String, UUID?) in
                    let s = StorageStatus(error, ingest: true)
                    retryAfter = s.retryAfterSeconds
                    return (s.status, rejection.description, nil)
                }()
            }
            if case .storage = rejection { logger.error("batch not stored", metadata: ["reason": "\(message)"]) }
            let data = (try? WireJSON.encoder().encode(ErrorResponse(error: message, record: record))) ?? Data()
            var response = json(status, String(decoding: data, as: UTF8.self))
            if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
            return response
        } catch {
            return json(.internalServerError, #"{"error":"internal error"}"#)
        }
    }

    private func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
