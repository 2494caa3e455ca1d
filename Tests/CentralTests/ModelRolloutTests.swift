import Central
import Crypto
import Foundation
import KioskCore
import SyncWire
import Testing

/// Models and rollouts in the central store, on each backend, and which kiosk a rollout covers.
@Suite struct ModelRolloutTests {
    static func manifest(_ n: UInt8) -> (ModelManifest, [UInt8]) {
        let file = [UInt8](repeating: n, count: 4096)
        let version = Hex.encode(SHA256.hash(data: file))
        let answers = [ModelManifest.Answer(photo: "glass.jpg", photoSHA256: String(repeating: "ab", count: 32), label: "glass", probability: 0.9)]
        return (ModelManifest(version: version, size: file.count, labels: ["glass"], answers: answers, notes: "model \(n)",
                              createdAtMilliseconds: 1_795_000_000_000 + Int64(n)), file)
    }

    @Test func sharesGrowOverTheSameKiosksAndTheNewestRolloutDecides() {
        let kiosks = (0..<1000).map { "station-\($0)" }
        let buckets = kiosks.map(ModelRollout.bucket)
        #expect(buckets.allSatisfy { (0..<100).contains($0) })
        // Spread evenly enough that a 10% share is about a tenth of the fleet.
        let tenth = buckets.filter { $0 < 10 }.count
        #expect((70...130).contains(tenth), "\(tenth) of 1000 kiosks in a 10% share")
        let v1 = String(repeating: "1", count: 64), v2 = String(repeating: "2", count: 64)
        let all = ModelRollout(id: UUID(), version: v1, kiosk: nil, sharePercent: 100, createdAtMilliseconds: 1)
        let ten = ModelRollout(id: UUID(), version: v2, kiosk: nil, sharePercent: 10, createdAtMilliseconds: 2)
        let fifty = ModelRollout(id: UUID(), version: v2, kiosk: nil, sharePercent: 50, createdAtMilliseconds: 3)
        let onTen = Set(kiosks.filter { ModelRollout.assigned(to: $0, in: [all, ten]) == v2 })
        let onFifty = Set(kiosks.filter { ModelRollout.assigned(to: $0, in: [all, ten, fifty]) == v2 })
        #expect(onTen.count == tenth && onTen.isSubset(of: onFifty))
        let back = ModelRollout(id: UUID(), version: v1, kiosk: "station-3", sharePercent: 100, createdAtMilliseconds: 4)
        #expect(ModelRollout.assigned(to: "station-3", in: [all, fifty, back]) == v1)
        #expect(ModelRollout.assigned(to: "station-3", in: []) == nil)
    }

    @Test(arguments: Backend.available)
    func modelsAndRolloutsAreStoredAndResolvedPerKiosk(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        let raw = Curve25519.Signing.PrivateKey().rawRepresentation
        try await database.store().whileRunning { store in
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            #expect(try await store.modelSigningKey() == nil)
            try await store.setModelSigningKey(ModelSigningKey.base64(key.publicKey))
            #expect(try await store.modelSigningKey() == ModelSigningKey.base64(key.publicKey))
            for name in ["station-a", "station-b"] {
                try await store.addDevice(name: name, tokenHash: String(repeating: name == "station-a" ? "a" : "b", count: 64), atMilliseconds: 1)
            }
            let (one, file1) = Self.manifest(1), (two, file2) = Self.manifest(2)
            let signed1 = try SignedManifest.sign(one, with: key)
            try await store.addModel(one, signed: signed1, file: file1)
            try await store.addModel(two, signed: try SignedManifest.sign(two, with: key), file: file2)
            await #expect(throws: CentralError.nameTaken("model \(one.version.prefix(16)) is already held")) {
                try await store.addModel(one, signed: signed1, file: file1)
            }
            let models = try await store.models()
            #expect(models.map(\.version) == [one.version, two.version] && models[0].notes == "model 1" && models[0].size == 4096)
            #expect(try models[0].signedManifest.open(publicKey: key.publicKey) == one)
            #expect(try await store.modelFile(version: two.version) == file2)
            #expect(try await store.modelFile(version: String(repeating: "0", count: 64)) == nil)
            #expect(try await store.model(matching: String(one.version.prefix(10)).uppercased()).version == one.version)
            await #expect(throws: CentralError.self) { try await store.model(matching: "abc") }

            #expect(try await store.assignedModel(kiosk: "station-a") == nil)
            _ = try await store.addRollout(version: one.version, kiosk: nil, sharePercent: 100, atMilliseconds: 10)
            _ = try await store.addRollout(version: two.version, kiosk: "station-b", sharePercent: 100, atMilliseconds: 11)
            #expect(try await store.assignedModel(kiosk: "station-a")?.version == one.version)
            #expect(try await store.assignedModel(kiosk: "station-b")?.version == two.version)
            await #expect(throws: CentralError.self) {
                try await store.addRollout(version: one.version, kiosk: "nobody", sharePercent: 100, atMilliseconds: 12)
            }
            let fleet = try await store.fleetModels()
            #expect(fleet.map(\.kiosk) == ["station-a", "station-b"] && fleet.map(\.assigned) == [one.version, two.version])
        }
        await database.remove()
    }
}
