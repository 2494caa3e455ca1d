import Crypto
import Foundation
import KioskCore
@testable import Sync
import SyncWire
import Testing

/// The kiosk's installed models on a real folder: install, refusal, rollback, going back by itself. The trial is
/// given as a closure here (the end-to-end tests run the real engine).
@Suite struct ModelStoreTests {
    /// A fixed test key (a computed property: the key type is not Sendable).
    static var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)) }
    static var publicKey: String { ModelSigningKey.base64(key.publicKey) }

    /// A folder with a "model" file of some bytes, its manifest, and the trial that "loads" it.
    struct Made {
        var file: String
        var manifest: ModelManifest
        var signed: SignedManifest
        var report: ModelTrialReport
    }

    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "model-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func make(_ dir: String, _ n: UInt8, size: Int = 1000) throws -> Made {
        let bytes = [UInt8](repeating: n, count: size)
        let file = "\(dir)/model-\(n).kmodel"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let version = Hex.encode(SHA256.hash(data: bytes))
        let answers = [ModelManifest.Answer(photo: "glass.jpg", photoSHA256: String(repeating: "ab", count: 32), label: "glass", probability: 0.9)]
        let manifest = ModelManifest(version: version, size: size, labels: ["glass", "metal"], answers: answers, notes: nil,
                                     createdAtMilliseconds: 1_795_000_000_000)
        return Made(file: file, manifest: manifest, signed: try SignedManifest.sign(manifest, with: key),
                    report: ModelTrialReport(version: version, size: size, labels: ["glass", "metal"], answers: answers))
    }

    static let bundled = ModelSlot(version: String(repeating: "b", count: 64), file: "/usr/share/kiosk/models/default.kmodel", source: "bundled")

    @Test func installKeepsThePreviousAndRollbackSwapsThem() throws {
        let dir = try Self.folder()
        let store = ModelStore(dataDirectory: dir)
        #expect(try store.state().active == nil)
        let one = try Self.make(dir, 1), two = try Self.make(dir, 2)
        let first = try store.install(file: one.file, signed: one.signed, publicKey: Self.publicKey, source: "file",
                                      current: Self.bundled, trial: { _ in one.report })
        #expect(first.version == one.manifest.version && first.file.hasSuffix("/models/\(one.manifest.version).kmodel"))
        #expect(try store.state().previous == Self.bundled)
        try store.install(file: two.file, signed: two.signed, publicKey: Self.publicKey, source: "server", current: Self.bundled,
                          trial: { _ in two.report })
        var state = try store.state()
        #expect(state.active?.version == two.manifest.version && state.previous?.version == one.manifest.version)
        #expect(store.activeVersion() == two.manifest.version)
        #expect(try store.rollback().version == one.manifest.version)
        state = try store.state()
        #expect(state.active?.version == one.manifest.version && state.previous?.version == two.manifest.version)
        // A third install drops the oldest file: only the active and the previous are kept.
        let three = try Self.make(dir, 3)
        try store.install(file: three.file, signed: three.signed, publicKey: Self.publicKey, source: "file", current: nil,
                          trial: { _ in three.report })
        let kept = try FileManager.default.contentsOfDirectory(atPath: store.directory).filter { $0.hasSuffix(".kmodel") }.sorted()
        #expect(kept == [one.manifest.version, three.manifest.version].sorted().map { $0 + ".kmodel" })
    }

    @Test func eachFailedCheckRefusesAndChangesNothing() throws {
        let dir = try Self.folder()
        let store = ModelStore(dataDirectory: dir)
        let one = try Self.make(dir, 1), two = try Self.make(dir, 2, size: 999)
        try store.install(file: one.file, signed: one.signed, publicKey: Self.publicKey, source: "file", current: nil, trial: { _ in one.report })
        let before = try store.state()
        func refused(_ expected: String, _ install: () throws -> Void) {
            do {
                try install()
                Issue.record("installed, expected a refusal with \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
            #expect((try? store.state()) == before)
        }
        let forged = try SignedManifest.sign(two.manifest, with: Curve25519.Signing.PrivateKey())
        refused("signature is not the city's") {
            try store.install(file: two.file, signed: forged, publicKey: Self.publicKey, source: "file", current: nil, trial: { _ in two.report })
        }
        refused("needs the city's signature") {
            try store.install(file: two.file, signed: nil, publicKey: Self.publicKey, source: "file", current: nil, trial: { _ in two.report })
        }
        refused("the manifest says 1000") {
            try store.install(file: two.file, signed: one.signed, publicKey: Self.publicKey, source: "file", current: nil, trial: { _ in two.report })
        }
        refused("does not load or run") {
            try store.install(file: two.file, signed: two.signed, publicKey: Self.publicKey, source: "file", current: nil,
                              trial: { _ in throw CocoaError(.fileReadCorruptFile) })
        }
        var changed = two.report
        changed.answers[0].label = "metal"
        let otherAnswer = changed
        refused("fails its trial: on glass.jpg it answers metal") {
            try store.install(file: two.file, signed: two.signed, publicKey: Self.publicKey, source: "file", current: nil, trial: { _ in otherAnswer })
        }
        // Unsigned only when asked for, and the trial still runs.
        try store.install(file: two.file, signed: nil, publicKey: nil, allowUnsigned: true, source: "file", current: nil, trial: { _ in two.report })
        #expect(store.activeVersion() == two.manifest.version)
    }

    @Test func anActiveModelThatDoesNotLoadGoesBackToThePreviousByItself() throws {
        let dir = try Self.folder()
        let store = ModelStore(dataDirectory: dir)
        let one = try Self.make(dir, 1), two = try Self.make(dir, 2)
        try store.install(file: one.file, signed: one.signed, publicKey: Self.publicKey, source: "file", current: Self.bundled, trial: { _ in one.report })
        try store.install(file: two.file, signed: two.signed, publicKey: Self.publicKey, source: "file", current: Self.bundled, trial: { _ in two.report })
        let back = try store.activeFailed(two.manifest.version, reason: "checksum mismatch")
        #expect(back?.version == one.manifest.version)
        var state = try store.state()
        #expect(state.active?.version == one.manifest.version && state.previous == nil)
        #expect(state.refused == [two.manifest.version] && state.automaticRollbacks == 1)
        #expect(state.lastError?.hasPrefix("model \(two.manifest.version.prefix(16)) failed to load (checksum mismatch); went back to") == true)
        #expect(throws: ModelStoreError.nothingToRollBackTo) { try store.rollback() }
        // Down to the bundled model when the first fails too.
        #expect(try store.activeFailed(one.manifest.version, reason: "gone") == nil)
        state = try store.state()
        #expect(state.active == nil && state.automaticRollbacks == 2)
    }

    @Test func aDamagedStateFileIsReportedNotIgnored() throws {
        let dir = try Self.folder()
        let store = ModelStore(dataDirectory: dir)
        try FileManager.default.createDirectory(atPath: store.directory, withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: store.directory + "/state.json"))
        #expect(throws: ModelStoreError.self) { try store.state() }
        #expect(store.activeVersion() == nil)
    }
}
