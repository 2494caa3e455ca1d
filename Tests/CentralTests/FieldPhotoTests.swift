import Central
import Foundation
import Imaging
import KioskCore
import SyncWire
import Testing

/// Field photos on the server: what a batch may carry, kept once, paged out in time order, deleted by day.
@Suite struct FieldPhotoTests {
    static func jpeg(shade: UInt8, side: Int = 224) throws -> Data {
        let image = RGBImage(width: side, height: side, pixels: [UInt8](repeating: shade, count: side * side * 3))
        return Data(try JPEGEncoder().encode(image, quality: 90, destination: "test"))
    }

    static func photo(_ n: Int, kiosk: String = "station-1", label: String? = "glass") throws -> FieldPhoto {
        FieldPhoto(kiosk: kiosk, takenAtMilliseconds: 1_795_000_000_000 + Int64(n) * 3_600_000, label: label,
                   source: label == nil ? .none : .resident, record: UUID(), modelLabel: "plastic", modelVersion: "0123456789abcdef",
                   jpeg: try jpeg(shade: UInt8(n * 10 % 250)))
    }

    @Test(arguments: Backend.available)
    func photosArriveOnceAndComeBackInTimeOrder(_ backend: Backend) async throws {
        let database = try await FreshDatabase.make(backend)
        try await database.store().whileRunning { store in
            let ingest = Ingest(store: store, clock: { 1_800_000_000_000 })
            let photos = try (0..<5).map { try Self.photo(4 - $0, label: $0 == 2 ? nil : "glass") }
            let first = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: photos), from: "station-1")
            #expect(first.accepted == 5)
            let again = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: [photos[0]]), from: "station-1")
            #expect(again.duplicates == 1)
            let all = try await store.fieldPhotos(fromMilliseconds: nil, toMilliseconds: nil)
            #expect(all.map(\.photo) == photos.reversed())
            #expect(all[0].receivedAtMilliseconds == 1_800_000_000_000)
            // Paging: two at a time after the last seen.
            let page1 = try await store.fieldPhotos(fromMilliseconds: nil, toMilliseconds: nil, limit: 2)
            let last = page1[1].photo
            let page2 = try await store.fieldPhotos(fromMilliseconds: nil, toMilliseconds: nil,
                                                    after: (last.takenAtMilliseconds, last.id), limit: 2)
            #expect((page1 + page2).map(\.photo.id) == all.prefix(4).map(\.photo.id))
            let window = try await store.fieldPhotos(fromMilliseconds: photos[3].takenAtMilliseconds, toMilliseconds: photos[0].takenAtMilliseconds)
            #expect(window.map(\.photo.id) == [photos[3].id, photos[2].id, photos[1].id])
            #expect(try await store.deleteFieldPhotos(takenBeforeMilliseconds: photos[1].takenAtMilliseconds) == 3)
            #expect(try await store.fieldPhotoCount() == (2, photos[1].takenAtMilliseconds))
        }
    }

    @Test func aBatchWithABadPhotoIsRefusedNamingIt() async throws {
        let database = try await FreshDatabase.make(.sqlite)
        try await database.store().whileRunning { store in
            let ingest = Ingest(store: store)
            var broken = try Self.photo(1)
            broken.jpeg = broken.jpeg.prefix(40)  // a JPEG cut short
            let fine = try Self.photo(2)
            do {
                _ = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: [fine, broken]), from: "station-1")
                Issue.record("a photo cut short was accepted")
            } catch let error as Ingest.Rejection {
                guard case .badRecord(let id, let message) = error else { Issue.record("\(error)"); return }
                #expect(id == broken.id)
                #expect(message.hasPrefix("field photo \(broken.id.uuidString.lowercased())"))
            }
            var big = try Self.photo(3)
            big.jpeg = try Self.jpeg(shade: 9, side: 1100)
            do {
                _ = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: [big]), from: "station-1")
                Issue.record("a 1100 px photo was accepted")
            } catch let error as Ingest.Rejection {
                #expect(error.description.contains("is 1100x1100; each side must be 16 to 1024 pixels"))
            }
            let other = try Self.photo(4, kiosk: "station-2")
            do {
                _ = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: [other]), from: "station-1")
                Issue.record("another kiosk's photo was accepted")
            } catch let error as Ingest.Rejection {
                #expect(error == .forbidden("field photo \(other.id) belongs to station-2, not station-1"))
            }
            let tooMany = try (0...RecordBatch.maximumPhotos).map { try Self.photo($0) }
            do {
                _ = try await ingest.store(RecordBatch(kiosk: "station-1", records: [], photos: tooMany), from: "station-1")
                Issue.record("41 photos were accepted")
            } catch let error as Ingest.Rejection {
                #expect(error == .tooLarge("batch of 41 field photos; at most 40"))
            }
            #expect(try await store.fieldPhotoCount().count == 0)  // nothing of a refused batch is kept
        }
    }
}
