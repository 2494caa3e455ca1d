import ArgumentParser
import Foundation
import KioskCore
import Sync

/// Where the kiosk keeps its records and enrollment, and its configuration file; every command that touches them
/// takes `--data-dir` and `--config`, so several kiosks can run side by side on one machine.
struct DataOptions: ParsableArguments {
    static let defaultDirectory = "/var/lib/kiosk"

    @Option(name: .long, help: "Data folder (records, enrollment). Default: $KIOSK_DATA_DIR, else data_dir in the configuration, else /var/lib/kiosk.")
    var dataDir: String?

    @Option(name: .long, help: "Configuration file. Default: $KIOSK_CONFIG, else /etc/kiosk/kiosk.json when it exists.")
    var config: String?

    /// A bad configuration stops every command before it does anything, with one line naming the key.
    func validate() throws {
        _ = try configuration()
    }

    /// The configuration file's settings (empty when there is no file and none was asked for).
    func configuration() throws -> KioskConfiguration {
        let environment = ProcessInfo.processInfo.environment["KIOSK_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        let explicit = config ?? environment
        let path = explicit ?? KioskConfiguration.defaultPath
        guard FileManager.default.fileExists(atPath: path) else {
            if explicit != nil { throw fail("configuration \(path): no such file") }
            return KioskConfiguration()
        }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw fail("configuration \(path): cannot be read (permissions?)")
        }
        do {
            return try KioskConfiguration(json: Array(bytes), source: path)
        } catch {
            throw fail(error.description)
        }
    }

    var directory: String {
        if let dataDir { return dataDir }
        if let env = ProcessInfo.processInfo.environment["KIOSK_DATA_DIR"], !env.isEmpty { return env }
        // validate() has checked the file already.
        if let fromFile = (try? configuration())?.dataDirectory { return fromFile }
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
