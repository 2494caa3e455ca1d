import ArgumentParser
import Foundation
import Sync

/// Where the kiosk keeps its records and enrollment; every command that touches them takes `--data-dir`, so
/// several kiosks can run side by side on one machine.
struct DataOptions: ParsableArguments {
    static let defaultDirectory = "/var/lib/kiosk"

    @Option(name: .long, help: "Data folder (records, enrollment). Default: $KIOSK_DATA_DIR, else /var/lib/kiosk.")
    var dataDir: String?

    var directory: String {
        if let dataDir { return dataDir }
        if let env = ProcessInfo.processInfo.environment["KIOSK_DATA_DIR"], !env.isEmpty { return env }
        return Self.defaultDirectory
    }

    func openStore() throws -> RecordStore {
        do {
            return try RecordStore(dataDirectory: directory)
        } catch {
            throw fail("\(error) (choose another folder with --data-dir)")
        }
    }

    func enrollment() throws -> Enrollment? {
        do {
            return try Enrollment.load(dataDirectory: directory)
        } catch {
            throw fail(error.description)
        }
    }

    /// The enrolled kiosk name, else this machine's host name.
    func kioskName() throws -> String {
        if let e = try enrollment() { return e.kiosk }
        return ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "kiosk"
    }
}
