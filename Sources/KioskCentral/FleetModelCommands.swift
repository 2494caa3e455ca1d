import ArgumentParser
import Central
import Crypto
import Foundation
import Inference
import KioskCore
import SyncWire

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "The city's model-signing key.", subcommands: [KeysInitCommand.self, KeysShowCommand.self])
}

struct KeyFileOption: ParsableArguments {
    @Option(name: .long, help: "The private signing key file (default \(SigningKeyFile.defaultPath)).")
    var keyFile: String = SigningKeyFile.defaultPath
}

struct KeysInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Make the city's Ed25519 model-signing key (file mode 0600, outside the database); kiosks get its public half when they enroll.")

    @OptionGroup var key: KeyFileOption
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let store = try database.open()
        let path = key.keyFile
        // Inside the store's run: a key file made for a database that cannot be opened helps nobody.
        let (existing, publicKey) = try await withStore(store) { store in
            let existing = try await store.modelSigningKey()
            let publicKey = ModelSigningKey.base64(try SigningKeyFile.create(at: path).publicKey)
            try await store.setModelSigningKey(publicKey)
            return (existing, publicKey)
        }
        if let existing, existing != publicKey {
            print("warning: the database trusted another key (\(existing)); kiosks enrolled before must enroll again")
        }
        print("signing key written to \(path) (mode 0600); public key in \(path).pub and the database:")
        print(publicKey)
    }
}

struct KeysShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print the public key kiosks check models with (for kiosk enroll --key-file).")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        guard let key = try await withStore(try database.open(), { try await $0.modelSigningKey() }) else {
            throw fail("no signing key yet: kiosk-central keys init")
        }
        print(key)
    }
}

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Models for the fleet: add, assign, list.",
        subcommands: [ModelAddCommand.self, ModelAssignCommand.self, ModelListCommand.self, ModelExportCommand.self])
}

struct ModelAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Check a kiosk model file (format, checksum, labels the catalogue maps), try it on the trial photos and store it with a signed manifest.")

    @Argument(help: "A kiosk model file (.kmodel).")
    var file: String

    @Option(name: .long, help: "What changed in this model, for the operators.")
    var notes: String?

    @Option(name: .long, help: "Catalogue whose bins the model's labels must map to (default: the installed one).")
    var catalogue: String?

    @Option(name: .long, help: "Trial photos the manifest records the model's answers on (default: the installed trial-photos folder, the same the kiosks have).")
    var photos: String?

    @Option(name: .long, help: "Inference threads for the trial.")
    var threads = 2

    @OptionGroup var key: KeyFileOption
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let signingKey = try SigningKeyFile.load(key.keyFile)
        let model: KioskModel
        do {
            model = try KioskModel(path: file)
        } catch {
            throw fail(error.description)
        }
        let cataloguePath = catalogue ?? ResourceFolders.firstExisting(["/etc/kiosk/catalogue.json"] + ResourceFolders.all.map { "\($0)/catalogue.json" })
        guard let cataloguePath else { throw fail("no catalogue found; pass --catalogue FILE") }
        guard let bytes = FileManager.default.contents(atPath: cataloguePath) else { throw fail("--catalogue \(cataloguePath): cannot read it") }
        let loaded: Catalogue
        do {
            loaded = try Catalogue(json: Array(bytes), source: cataloguePath)
        } catch {
            throw fail(error.description)
        }
        let unmapped = loaded.unmappedLabels(model.labels)
        if !unmapped.isEmpty {
            throw fail("\(file): labels \(unmapped.joined(separator: ", ")) are in no bin of \(cataloguePath); add them to the catalogue first")
        }
        guard let folder = photos ?? ResourceFolders.firstExisting(ResourceFolders.all.map { "\($0)/trial-photos" }) else {
            throw fail("no trial photos found; pass --photos DIR")
        }
        let judged: [TrialPhotos.Judgement]
        do {
            judged = try TrialPhotos.judge(modelPath: file, folder: folder, threads: threads)
        } catch {
            throw fail(error.description)
        }
        let manifest = ModelManifest(
            version: model.checksum, size: model.fileSize, labels: model.labels,
            answers: judged.map { .init(photo: $0.photo, photoSHA256: $0.sha256, label: $0.label, probability: $0.probability) },
            notes: notes, createdAtMilliseconds: WallClock.nowMilliseconds)
        let signed: SignedManifest
        do {
            signed = try SignedManifest.sign(manifest, with: signingKey)
        } catch {
            throw fail("cannot sign the manifest: \(error)")
        }
        guard let fileBytes = FileManager.default.contents(atPath: file) else { throw fail("\(file): cannot read") }
        let publicKey = ModelSigningKey.base64(signingKey.publicKey)
        let path = key.keyFile
        try await withStore(try database.open()) { store in
            guard try await store.modelSigningKey() == publicKey else {
                throw CentralError.invalid("\(path) is not the key this database's kiosks trust (kiosk-central keys show)")
            }
            try await store.addModel(manifest, signed: signed, file: [UInt8](fileBytes))
        }
        print("added model \(manifest.version) (\(manifest.size) bytes, \(manifest.labels.count) labels)")
        for answer in judged {
            print("  \(answer.photo): \(answer.label) \(String(format: "%.1f", answer.probability * 100))%")
        }
        print("assign it with: kiosk-central model assign \(manifest.version.prefix(16)) --kiosk NAME | --share PERCENT | --all")
    }
}

struct ModelAssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Stage a rollout: one kiosk, a share of the fleet (the same kiosks first as the share grows) or all; the newest assignment covering a kiosk decides its model.")

    @Argument(help: "The model's version, or its first 8 or more hex digits.")
    var version: String

    @Option(name: .long, help: "One kiosk.")
    var kiosk: String?

    @Option(name: .long, help: "This percentage of the kiosks (0-100).")
    var share: Int?

    @Flag(name: .long, help: "Every kiosk.")
    var all = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let chosen = [kiosk != nil, share != nil, all].filter { $0 }.count
        guard chosen == 1 else { throw fail("give exactly one of --kiosk NAME, --share PERCENT or --all") }
        if let share, !(0...100).contains(share) { throw fail("--share must be between 0 and 100, not \(share)") }
        let (version, kiosk, share) = (self.version, self.kiosk, all ? 100 : share ?? 100)
        let (model, covered) = try await withStore(try database.open()) { store in
            let model = try await store.model(matching: version)
            _ = try await store.addRollout(version: model.version, kiosk: kiosk, sharePercent: share, atMilliseconds: WallClock.nowMilliseconds)
            let fleet = try await store.fleetModels()
            return (model, fleet.filter { $0.assigned == model.version }.map(\.kiosk))
        }
        let scope = kiosk.map { "kiosk \($0)" } ?? (share == 100 ? "all kiosks" : "\(share)% of kiosks")
        print("model \(model.version.prefix(16)) assigned to \(scope); now on it: \(covered.count) kiosk\(covered.count == 1 ? "" : "s")"
              + (covered.isEmpty ? "" : " (\(covered.joined(separator: ", ")))"))
    }
}

struct ModelListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The models held, and the kiosks assigned to and running each.")

    @Flag(name: .long, help: "One JSON object.")
    var json = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (models, fleet) = try await withStore(try database.open()) { store in
            (try await store.models(), try await store.fleetModels())
        }
        if json {
            struct Entry: Encodable {
                var version: String, size: Int, added: String, notes: String?, assigned: [String], running: [String]
            }
            struct Listing: Encodable { var models: [Entry] }
            let entries = models.map { m in
                Entry(version: m.version, size: m.size, added: WallClock.iso8601(milliseconds: m.addedAtMilliseconds), notes: m.notes,
                      assigned: fleet.filter { $0.assigned == m.version }.map(\.kiosk),
                      running: fleet.filter { $0.running.map { m.version.hasPrefix($0) } ?? false }.map(\.kiosk))
            }
            print(String(decoding: try WireJSON.encoder().encode(Listing(models: entries)), as: UTF8.self))
            return
        }
        if models.isEmpty {
            print("no models yet: kiosk-central model add FILE")
            return
        }
        for m in models {
            let assigned = fleet.filter { $0.assigned == m.version }.map(\.kiosk)
            let running = fleet.filter { $0.running.map { m.version.hasPrefix($0) } ?? false }.map(\.kiosk)
            print("\(m.version.prefix(16))  \(m.size) bytes  added \(WallClock.iso8601(milliseconds: m.addedAtMilliseconds))"
                  + (m.notes.map { "  \($0)" } ?? ""))
            print("    assigned: \(assigned.isEmpty ? "none" : assigned.joined(separator: ", "))")
            print("    running:  \(running.isEmpty ? "none" : running.joined(separator: ", "))")
        }
        let unassigned = fleet.filter { $0.assigned == nil }.map(\.kiosk)
        if !unassigned.isEmpty { print("kiosks with no model assigned (they keep their own): \(unassigned.joined(separator: ", "))") }
    }
}

struct ModelExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model and its signed manifest to a folder (a USB stick), for kiosk model install.")

    @Argument(help: "The model's version, or its first 8 or more hex digits.")
    var version: String

    @Argument(help: "The folder to write VERSION.kmodel and VERSION.kmodel.manifest.json into.")
    var folder: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("\(folder): no such folder")
        }
        let version = self.version
        let (model, bytes) = try await withStore(try database.open()) { store in
            let model = try await store.model(matching: version)
            guard let bytes = try await store.modelFile(version: model.version) else { throw CentralError.notFound("model \(version): its file is gone") }
            return (model, bytes)
        }
        let path = "\(folder)/\(model.version.prefix(16)).kmodel"
        do {
            try AtomicFile.write(bytes, to: path)
            try AtomicFile.write([UInt8](try WireJSON.encoder().encode(model.signedManifest)), to: path + ".manifest.json")
        } catch {
            throw fail("\(error)")
        }
        print("wrote \(path) and \(path).manifest.json; on the kiosk: kiosk model install \(path)")
    }
}

/// Runs one admin step with the store prepared, turning a storage error into one line.
func withStore<R: Sendable>(_ store: CentralStore, _ body: @Sendable (CentralStore) async throws -> R) async throws -> R {
    do {
        return try await store.whileRunning(body)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw fail("\(error)")
    }
}
