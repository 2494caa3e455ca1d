import ArgumentParser
import Foundation
import Inference
import KioskCore
import SQLite
import Sync
import Systemd
import SyncWire

struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push pending records to the central server now (safe while the kiosk app runs), or show the outbox.")

    @Flag(name: .long, help: "Print the outbox status instead: pending records, the oldest one, the last sync and error.")
    var status = false

    @Flag(name: .long, help: "Keep running: push whenever records are pending, retry with backoff, until stopped (SIGTERM).")
    var watch = false

    @Flag(name: .long, help: "Send the records the server refused again (after the server or the records were fixed).")
    var retryRefused = false

    @Option(name: .long, help: "Records per request (at most 500).")
    var batchSize = 500

    @Option(name: .long, help: "Seconds a request may take in all.")
    var timeout = 30.0

    @Flag(name: .long, help: "With --status: one JSON object.")
    var json = false

    @OptionGroup var data: DataOptions

    func run() throws {
        if watch { return try watchForever() }
        guard status else { return try push() }
        let store = try data.openStore()
        let summary: StoreSummary
        let photos: (waiting: Int, refused: Int)
        do {
            summary = try store.summary()
            photos = try store.photoCounts()
        } catch {
            throw fail(error.description)
        }
        let enrollment = try data.enrollment()
        let oldest = summary.oldestPendingCapturedAtMilliseconds.map { WallClock.iso8601(milliseconds: $0) }
        if json {
            func s(_ v: String?) -> String { v.map(JSONText.string) ?? "null" }
            print("{\"data_dir\":\(JSONText.string(data.directory)),\"kiosk\":\(s(enrollment?.kiosk)),"
                  + "\"server\":\(s(enrollment?.server)),\"records\":\(summary.total),\"pending\":\(summary.pending),"
                  + "\"pending_exported\":\(summary.pendingExported),\"oldest_pending\":\(s(oldest)),"
                  + "\"refused\":\(summary.refused),\"latest_refusal\":\(s(summary.latestRefusal)),"
                  + "\"last_success\":\(s(summary.lastSuccess)),\"last_error\":\(s(summary.lastError)),"
                  + "\"field_photos\":\(photos.waiting),\"field_photos_refused\":\(photos.refused)}")
        } else {
            print("data folder: \(data.directory)")
            print("server: \(enrollment.map { "\($0.server) as \($0.kiosk)" } ?? "not enrolled (kiosk enroll --server URL --token T)")")
            print("records: \(summary.total), pending: \(summary.pending)"
                  + (summary.pendingExported > 0 ? " (\(summary.pendingExported) of them exported to a bundle)" : ""))
            print("oldest pending: \(oldest.map { "\($0) (#\(summary.oldestPendingSequence ?? 0))" } ?? "none")")
            if summary.refused > 0 {
                print("refused by the server, set aside: \(summary.refused); latest: \(summary.latestRefusal ?? "?")")
            }
            if photos.waiting > 0 {
                print("field photos waiting for the server: \(photos.waiting)" + (photos.refused > 0 ? " (\(photos.refused) refused by it)" : ""))
            }
            print("last success: \(summary.lastSuccess ?? "never")")
            print("last error: \(summary.lastError ?? "none")")
        }
    }
}

extension SyncCommand {
    /// The background sync as its own process (e.g. a systemd unit beside the UI).
    func watchForever() throws {
        Kiosk.bootstrapLogging(verbose: false, level: .info)
        _ = try data.openStore()  // fail now, with a clear message, if the folder is unusable
        var settings = SyncWorker.Settings(dataDirectory: data.directory)
        settings.transport.totalTimeoutMilliseconds = Int(timeout * 1000)
        let file = try data.configuration()
        if let hooks = try modelHooks() { settings.models = hooks }
        if let seconds = file.modelCheckSeconds { settings.modelCheckInterval = .milliseconds(Int(seconds * 1000)) }
        if let seconds = file.heartbeatSeconds { settings.heartbeatInterval = .milliseconds(Int(seconds * 1000)) }
        settings.heartbeat = try appFacts()
        let notifier = SystemdNotifier()
        let worker = SyncWorker(settings: settings, heartbeat: { notifier.watchdog() })
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        worker.start()
        notifier.ready(status: "watching \(data.directory)")
        print("kiosk sync: watching \(data.directory); stop with SIGTERM")
        done.wait()
        notifier.stopping()
        worker.stop()
        withExtendedLifetime(sources) {}
    }

    func push() throws {
        guard let enrollment = try data.enrollment() else { throw fail(SyncError.notEnrolled.description) }
        let store = try data.openStore()
        var options = CurlTransport.Options()
        options.totalTimeoutMilliseconds = Int(timeout * 1000)
        let outbox = Outbox(store: store, transport: CurlTransport(enrollment: enrollment, options: options),
                            kiosk: enrollment.kiosk, batchSize: batchSize, now: { WallClock.nowMilliseconds })
        if retryRefused {
            do {
                print("\(try store.retryRefused()) refused records are pending again")
            } catch {
                throw fail(error.description)
            }
        }
        let pending = (try? store.pendingCount()) ?? 0
        print("pushing \(pending) pending records to \(enrollment.server) as \(enrollment.kiosk)")
        do {
            let report = try outbox.pushAll { report, remaining in
                print("  batch \(report.batches): \(report.sent) sent (\(report.accepted) new, \(report.duplicates) already held), \(remaining) pending")
            }
            print("done: \(report.sent) records in \(report.batches) batches, \(report.accepted) new on the server, "
                  + "\(report.duplicates) it already had"
                  + (report.photos > 0 ? " (\(report.photos) of them field photos)" : "")
                  + (report.refused > 0 ? ", \(report.refused) refused" : ""))
        } catch {
            throw fail("\(error) (records are kept; retry with kiosk sync, or carry them with kiosk export --to DIR)")
        }
        if let hooks = try modelHooks() {
            let updater = ModelUpdater(store: ModelStore(dataDirectory: data.directory), enrollment: enrollment, hooks: hooks)
            do {
                switch try updater.check(CurlTransport(enrollment: enrollment, options: options)) {
                case .noneAssigned: print("model: none assigned by the server")
                case .upToDate(let version): print("model: \(version.prefix(16)) is assigned and active")
                case .skipped(let version): print("model: \(version.prefix(16)) is assigned but was refused here before (kiosk model status)")
                case .installed(let slot): print("model: installed \(slot.version.prefix(16)); a running kiosk swaps to it at its next idle moment")
                case .refused(let message): throw fail(message)
                }
            } catch let error as SyncError {
                throw fail("model check: \(error) (the download resumes at the next sync)")
            }
        }
        // A heartbeat from the command line knows no camera (the app holds it) but the installed model.
        do {
            try CurlTransport(enrollment: enrollment, options: options)
                .send(HeartbeatReport.make(kiosk: enrollment.kiosk, dataDirectory: data.directory, store: store, app: try appFacts()))
        } catch let error as SyncError {
            print("heartbeat not sent: \(error)")
        }
        // Set-aside records have not reached the server: the run is not a full success until they do.
        if let summary = try? store.summary(), summary.refused > 0 {
            throw fail("\(summary.refused) records are set aside because the server refused them (latest: "
                       + "\(summary.latestRefusal ?? "?")); they are kept: fix the cause, then kiosk sync --retry-refused")
        }
    }
}

extension SyncCommand {
    /// What a sync outside the app reports: the camera unknown, the model the app would load.
    func appFacts() throws -> HeartbeatReport.AppFacts {
        let file = try data.configuration()
        let store = ModelStore(dataDirectory: data.directory)
        let named = file.model
        return {
            if let named { return ("unknown", (try? KioskModel(path: named))?.checksum) }
            return ("unknown", store.activeVersion() ?? InstalledModels.bundled()?.version)
        }
    }

    /// Model updates, unless the configuration names a model file or turns them off.
    func modelHooks() throws -> ModelUpdater.Hooks? {
        let file = try data.configuration()
        guard file.model == nil, file.modelUpdates ?? true else { return nil }
        return InstalledModels(dataDirectory: data.directory, backend: file.backend ?? .int8).hooks
    }
}

struct EnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Store the central server's address and this kiosk's credentials (mode 0600).")

    @Option(name: .long, help: "The central server, e.g. https://kiosk.city.example. Default: server in the configuration.")
    var server: String?

    @Option(name: .long, help: "This kiosk's token, from `kiosk-central device add NAME`.")
    var token: String

    @Option(name: .long, help: "This kiosk's name as registered on the server. Default: the name the server gives the token.")
    var kiosk: String?

    @Option(name: .long, help: "CA bundle to verify the server's certificate with (a city's own CA).")
    var caFile: String?

    @Flag(name: .long, help: "Do not check the token with the server (it cannot be reached now); needs --kiosk.")
    var offline = false

    @Option(name: .long, help: "The city's model-signing public key (a file from kiosk-central keys init: KEY.pub), pinned instead of taken from the server.")
    var keyFile: String?

    @OptionGroup var data: DataOptions

    func run() throws {
        guard let server = try server ?? data.configuration().server else {
            throw fail("no server: pass --server URL or set server in the configuration file")
        }
        if offline && kiosk == nil { throw fail("--offline needs --kiosk NAME: without the server, the kiosk's name cannot be checked") }
        // Checked like any other enrollment before the server is asked (the name the server gives replaces it).
        var enrollment = Enrollment(server: server, kiosk: kiosk ?? "unnamed", token: token, caFile: caFile)
        do {
            try enrollment.validate()
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw EnrollmentError.invalid("--ca-file \(caFile) cannot be read")
            }
            if let keyFile { enrollment.modelKey = try Self.pinnedKey(keyFile) }
            if !offline {
                let answer = try checked(enrollment)
                enrollment.kiosk = answer.kiosk
                if let served = answer.modelKey {
                    if let pinned = enrollment.modelKey, pinned != served {
                        throw fail("\(enrollment.server) signs models with another key than --key-file \(keyFile ?? ""); check which is the city's")
                    }
                    enrollment.modelKey = served
                }
            }
            let name = enrollment.kiosk
            let store = try data.openStore()  // creates the data folder when needed
            try enrollment.save(dataDirectory: data.directory)
            let adopted = try store.adoptPending(kiosk: name)
            print("enrolled \(name) with \(server); credentials in \(Enrollment.path(in: data.directory)) (mode 0600)")
            print(enrollment.modelKey == nil
                  ? "no model-signing key: this kiosk will not take models from the server until it enrolls again after kiosk-central keys init"
                  : "models from the server are checked with key \(enrollment.modelKey!)")
            if adopted > 0 { print("\(adopted) pending records made before enrollment now belong to \(name)") }
        } catch let error as EnrollmentError {
            throw fail(error.description)
        } catch let error as StoreError {
            throw fail(error.description)
        }
    }

    /// A public key file's one line of base64, checked.
    static func pinnedKey(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("--key-file \(path): cannot read it") }
        let text = String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }
        do {
            _ = try ModelSigningKey.publicKey(base64: text)
        } catch {
            throw fail("--key-file \(path): \(error)")
        }
        return text
    }

    /// The name the server gives the token (a different `--kiosk` is refused, as is a token it does not know),
    /// and its model-signing key.
    private func checked(_ enrollment: Enrollment) throws -> EnrollmentAnswer {
        let answer: EnrollmentAnswer
        do {
            answer = try CurlTransport(enrollment: enrollment, options: .init()).enrollment()
        } catch .server(status: 401, _) {
            throw fail("\(enrollment.server) does not know this token (copy it again from kiosk-central device add NAME)")
        } catch {
            throw fail(error.isTransient || error.description.hasPrefix("TLS")
                ? "cannot check the token with \(enrollment.server): \(error); try again, or pass --offline with --kiosk NAME"
                : "cannot check the token with \(enrollment.server): \(error)")
        }
        let named = answer.kiosk
        if let problem = KioskName.problem(named) { throw fail("the server named this kiosk badly: \(problem)") }
        if let kiosk, kiosk != named { throw fail("this token belongs to kiosk \(named) on \(enrollment.server), not \(kiosk)") }
        if let key = answer.modelKey, (try? ModelSigningKey.publicKey(base64: key)) == nil {
            throw fail("the server's model-signing key is not a valid Ed25519 public key")
        }
        return answer
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write pending records to a signed offline bundle (for a USB stick when there is no network).")

    @Option(name: .long, help: "Folder to write the bundle into (e.g. a mounted USB stick).")
    var to: String

    @OptionGroup var data: DataOptions

    func run() throws {
        guard let enrollment = try data.enrollment() else {
            throw fail("not enrolled: the bundle is signed with this kiosk's token (kiosk enroll --server URL --token T)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: to, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("--to \(to): no such folder")
        }
        let store = try data.openStore()
        do {
            // Records the server refused stay out: the server would refuse the whole bundle for them.
            let records = try store.pending(limit: Int.max)
            let quiz = try store.pendingQuiz(limit: Int.max)
            let refused = try store.summary().refused
            if refused > 0 { print("\(refused) records the server refused are not exported (kiosk sync --status)") }
            guard !records.isEmpty || !quiz.isEmpty else {
                print("nothing to export: no pending records in \(data.directory)")
                return
            }
            let now = WallClock.nowMilliseconds
            let bytes = try OfflineBundle(kiosk: enrollment.kiosk, createdAtMilliseconds: now, records: records, quiz: quiz)
                .signed(token: enrollment.token)
            let span = records.first.map { "\($0.sequence)-\(records.last!.sequence)" } ?? "quiz-\(now)"
            let path = "\(to)/kiosk-\(enrollment.kiosk)-\(span).kbundle"
            try AtomicFile.write(bytes, to: path)
            // Exported records stay pending: the server deduplicates them when they also arrive over the network.
            try store.markExported(records.map(\.id), atMilliseconds: now)
            let sequences = records.first.map { " (#\($0.sequence)-#\(records.last!.sequence))" } ?? ""
            print("\(path): \(records.count) records\(sequences) and \(quiz.count) quiz answers, signed; they stay pending until the server confirms them")
        } catch let error as StoreError {
            throw fail(error.description)
        } catch let error as BundleError {
            throw fail(error.description)
        } catch let error as FileWriteError {
            throw fail(error.description)
        }
    }
}
