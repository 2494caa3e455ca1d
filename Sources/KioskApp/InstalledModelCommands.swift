import ArgumentParser
import Foundation
import Inference
import KioskCore
import Sync
import SyncWire

struct ModelStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the active and previous models, a download under way and the last error.")

    @Flag(name: .long, help: "One JSON object.")
    var json = false

    @OptionGroup var data: DataOptions

    func run() throws {
        let store = ModelStore(dataDirectory: data.directory)
        let state: ModelStore.State
        do {
            state = try store.state()
        } catch {
            throw fail(error.description)
        }
        let active = state.active ?? InstalledModels.bundled()
        if json {
            struct Status: Encodable {
                var active: ModelSlot?, previous: ModelSlot?, pending: String?, pendingBytes: Int?
                var lastError: String?, lastErrorAt: String?, refused: [String], automaticRollbacks: Int
                enum CodingKeys: String, CodingKey {
                    case active, previous, pending, refused
                    case pendingBytes = "pending_bytes", lastError = "last_error", lastErrorAt = "last_error_at"
                    case automaticRollbacks = "automatic_rollbacks"
                }

                // Every key always present (null when unset), so scripts can rely on them.
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(active, forKey: .active)
                    try c.encode(previous, forKey: .previous)
                    try c.encode(pending, forKey: .pending)
                    try c.encode(pendingBytes, forKey: .pendingBytes)
                    try c.encode(lastError, forKey: .lastError)
                    try c.encode(lastErrorAt, forKey: .lastErrorAt)
                    try c.encode(refused, forKey: .refused)
                    try c.encode(automaticRollbacks, forKey: .automaticRollbacks)
                }
            }
            let status = Status(active: active, previous: state.previous, pending: state.pending,
                                pendingBytes: state.pending.map { Self.size(store.partPath($0)) },
                                lastError: state.lastError, lastErrorAt: state.lastErrorAt, refused: state.refused,
                                automaticRollbacks: state.automaticRollbacks)
            print(String(decoding: try WireJSON.encoder().encode(status), as: UTF8.self))
            return
        }
        func line(_ slot: ModelSlot?) -> String {
            guard let slot else { return "none" }
            return "\(slot.version.prefix(16)) (\(slot.source)\(slot.installedAt.map { ", installed \($0)" } ?? "")) \(slot.file)"
        }
        print("active:   \(line(active))")
        print("previous: \(line(state.previous))")
        print("pending:  \(state.pending.map { "\($0.prefix(16)), \(Self.size(store.partPath($0))) bytes downloaded" } ?? "none")")
        print("last error: \(state.lastError.map { "\($0) (\(state.lastErrorAt ?? "?"))" } ?? "none")")
        if !state.refused.isEmpty { print("refused: \(state.refused.map { String($0.prefix(16)) }.joined(separator: ", "))") }
        if state.automaticRollbacks > 0 { print("went back by itself: \(state.automaticRollbacks) times") }
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }
}

struct ModelInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install a model from a file (a technician's USB stick): the city's signature, size and checksum are checked and the model is tried on the trial photos; the running app swaps to it by itself.")

    @Argument(help: "The model file (.kmodel).")
    var file: String

    @Option(name: .long, help: "Its signed manifest (default: FILE.manifest.json beside it, from kiosk-central model export).")
    var manifest: String?

    @Flag(name: .long, help: "Install without the city's signature (on this kiosk only; the trial still runs).")
    var unsigned = false

    @OptionGroup var data: DataOptions

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: file) else { throw fail("\(file): cannot read") }
        let manifestPath = manifest ?? file + ".manifest.json"
        var signed: SignedManifest?
        if let bytes = FileManager.default.contents(atPath: manifestPath) {
            do {
                signed = try WireJSON.decoder().decode(SignedManifest.self, from: bytes)
            } catch {
                throw fail("\(manifestPath): not a signed manifest (\(error))")
            }
        } else if manifest != nil {
            throw fail("--manifest \(manifestPath): cannot read")
        }
        let enrollment = try data.enrollment()
        let configuration = try data.configuration()
        let installed = InstalledModels(dataDirectory: data.directory, backend: configuration.backend ?? .int8)
        do {
            let slot = try installed.store.install(
                file: file, signed: unsigned ? nil : signed, publicKey: enrollment?.modelKey, allowUnsigned: unsigned,
                source: "file", current: InstalledModels.bundled(), trial: installed.hooks.trial)
            print("installed model \(slot.version.prefix(16)) from \(file)" + (unsigned ? " (unsigned)" : "")
                  + "; a running kiosk swaps to it at its next idle moment")
        } catch {
            throw fail(error.description)
        }
    }
}

struct ModelRollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Go back to the previous model (and keep the current one as the previous).")

    @OptionGroup var data: DataOptions

    func run() throws {
        do {
            let slot = try ModelStore(dataDirectory: data.directory).rollback()
            print("active model is \(slot.version.prefix(16)) again (\(slot.source)); a running kiosk swaps to it at its next idle moment")
        } catch {
            throw fail(error.description)
        }
    }
}
