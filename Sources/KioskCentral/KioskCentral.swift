import ArgumentParser
import Central
import Foundation
import KioskCore
import SyncWire

@main
struct KioskCentral: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiosk-central",
        abstract: "The city's central server for waste-sorting kiosks: receives their scan records.",
        subcommands: [ServeCommand.self, DeviceCommand.self, AdminCommand.self, KeysCommand.self, ModelsCommand.self, ImportCommand.self,
                      CountCommand.self, ExportTrainingCommand.self, FieldPhotosCommand.self])
}

/// Prints one line naming what went wrong and ends with a non-zero status.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("kiosk-central: error: \(message)\n".utf8))
    return ExitCode(1)
}

struct DatabaseOptions: ParsableArguments {
    static let defaultDatabase = "sqlite:/var/lib/kiosk-central/central.sqlite"

    @Option(name: .long, help: "sqlite:PATH (default \(DatabaseOptions.defaultDatabase)) or postgres://USER@HOST/DB.")
    var database: String = DatabaseOptions.defaultDatabase

    /// A time zone by IANA name (nil: the server's own).
    static func timeZone(_ name: String?) throws -> TimeZone {
        guard let name else { return .current }
        guard let zone = TimeZone(identifier: name) else { throw fail("--time-zone \(name): not a known time zone (e.g. Asia/Shanghai, UTC)") }
        return zone
    }

    func open(timeZone: TimeZone = .current) throws -> CentralStore {
        if database.hasPrefix("sqlite:") {
            let path = String(database.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw fail("--database sqlite: needs a file path, e.g. sqlite:/var/lib/kiosk-central/central.sqlite") }
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            do {
                return CentralStore(database: try SQLiteDatabase(path: path), timeZone: timeZone)
            } catch {
                throw fail(error.description)
            }
        }
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            do {
                return CentralStore(database: try PostgresDatabase(url: database), timeZone: timeZone)
            } catch {
                throw fail(error.description)
            }
        }
        throw fail("--database \(database): expected sqlite:PATH or postgres://...")
    }
}

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Manage kiosks.", subcommands: [DeviceAddCommand.self])
}

struct DeviceAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a kiosk; prints its new token alone on the last line (stored hashed).")

    @Argument(help: "The kiosk's name (letters, digits, '-', '_', '.').")
    var name: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        if let problem = KioskName.problem(name) { throw fail(problem) }
        let store = try database.open()
        let token = Ingest.newToken()
        do {
            try await store.whileRunning { store in
                try await store.addDevice(name: name, tokenHash: Ingest.hash(token: token), atMilliseconds: WallClock.nowMilliseconds)
            }
        } catch {
            throw fail("\(error)")
        }
        print("registered \(name); give the kiosk this token (shown once): kiosk enroll --server URL --kiosk \(name) --token TOKEN")
        print(token)
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a kiosk's offline bundle (checks its signature; importing twice is harmless).")

    @Argument(help: "A .kbundle file written by `kiosk export`.")
    var bundle: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let bytes = FileManager.default.contents(atPath: bundle) else { throw fail("\(bundle): cannot read") }
        let store = try database.open()
        // The bundle names its kiosk; that kiosk's key is looked up, then the signature checked.
        let kiosk: String
        do {
            kiosk = try OfflineBundle.kiosk(in: [UInt8](bytes))
        } catch {
            throw fail("\(bundle): \(error)")
        }
        let path = bundle
        do {
            let line = try await store.whileRunning { store -> String in
                let hash = try await store.tokenHash(forKiosk: kiosk)
                let opened: OfflineBundle
                do {
                    opened = try OfflineBundle.open([UInt8](bytes)) { name in
                        name == kiosk ? hash.flatMap(Hex.decode) : nil
                    }
                } catch {
                    throw ImportFailure(message: "\(path): \(error)")
                }
                // The same checks as a batch over HTTP; all of them before anything is stored, so a bundle with
                // one bad record changes nothing.
                let ingest = Ingest(store: store)
                // Records and quiz answers in batches of at most 500 each, as over HTTP.
                let size = RecordBatch.maximumRecords
                let count = max(opened.records.count, opened.quiz.count)
                let batches = stride(from: 0, to: count, by: size).map { start in
                    RecordBatch(kiosk: opened.kiosk, records: Array(opened.records[min(start, opened.records.count)..<min(start + size, opened.records.count)]),
                                quiz: Array(opened.quiz[min(start, opened.quiz.count)..<min(start + size, opened.quiz.count)]))
                }
                for batch in batches {
                    do { try ingest.check(batch, from: kiosk) } catch { throw ImportFailure(message: "\(path): \(error)") }
                }
                var accepted = 0, duplicates = 0, quizNew = 0
                let quizIDs = Set(opened.quiz.map(\.id))
                for batch in batches {
                    let response: BatchResponse
                    do { response = try await ingest.store(batch, from: kiosk) } catch { throw ImportFailure(message: "\(path): \(error)") }
                    for result in response.results {
                        if quizIDs.contains(result.id) {
                            if result.status == .accepted { quizNew += 1 }
                        } else if result.status == .accepted {
                            accepted += 1
                        } else {
                            duplicates += 1
                        }
                    }
                }
                let quizLine = opened.quiz.isEmpty ? "" : "; \(opened.quiz.count) quiz answers: \(quizNew) new"
                return "\(path): kiosk \(opened.kiosk), \(opened.records.count) records: \(accepted) new, \(duplicates) already held\(quizLine)"
            }
            print(line)
        } catch {
            throw fail("\(error)")
        }
    }

    struct ImportFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Print the number of records held.")

    @Option(name: .long, help: "Only this kiosk's records.")
    var kiosk: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try database.open()
        let kiosk = self.kiosk
        do {
            print(try await store.whileRunning { store in try await store.count(kiosk: kiosk) })
        } catch {
            throw fail("\(error)")
        }
    }
}
