import Foundation
import KioskCore
import Testing

@testable import Sync

func samplePhoto(_ n: Int, label: String? = "glass", source: FieldPhoto.Source = .technician, kiosk: String = "station-7") -> FieldPhoto {
    FieldPhoto(kiosk: kiosk, takenAtMilliseconds: 1_795_000_000_000 + Int64(n), label: label, source: source,
               jpeg: Data([0xFF, 0xD8, 0xFF, 0xE0, UInt8(n & 0xFF)]))
}

/// Field photos in the kiosk's record store: kept until the server has them, then deleted; bounded.
struct FieldPhotoStoreTests {
    @Test func photosWaitInTimeOrderAndGoWhenTheServerHasThem() throws {
        let folder = try temporaryFolder("photos")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        let photos = [samplePhoto(3), samplePhoto(1, label: "category:hazardous", source: .resident), samplePhoto(2, label: nil, source: .none)]
        for p in photos { #expect(try store.append(p)) }
        #expect(try store.append(photos[0]))  // the same id again: kept once
        let record = try store.append(sampleRecord())
        #expect(try store.pendingPhotos(limit: 10).map(\.id) == [photos[1].id, photos[2].id, photos[0].id])
        #expect(try store.pendingPhotos(limit: 10)[0] == photos[1])
        #expect(try store.pendingCount() == 4)
        #expect(try store.markSynced([photos[1].id, record.id], atMilliseconds: 1) == 2)
        #expect(try store.allPhotos().map(\.id) == [photos[2].id, photos[0].id])
        #expect(try store.photoCounts() == (waiting: 2, refused: 0))
    }

    @Test func atTheLimitNewPhotosAreNotKept() throws {
        let folder = try temporaryFolder("photos")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        for n in 0..<3 { #expect(try store.append(samplePhoto(n), limit: 3)) }
        #expect(try !store.append(samplePhoto(9), limit: 3))
        #expect(try store.allPhotos().count == 3)
        _ = try store.markSynced([try store.allPhotos()[0].id], atMilliseconds: 1)
        #expect(try store.append(samplePhoto(9), limit: 3))
    }

    @Test func aRefusedPhotoIsSetAsideUntilRetriedAndFollowsTheEnrolledName() throws {
        let folder = try temporaryFolder("photos")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try RecordStore(dataDirectory: folder)
        let a = samplePhoto(1, kiosk: "raspberrypi"), b = samplePhoto(2, kiosk: "raspberrypi")
        try store.append(a)
        try store.append(b)
        #expect(try store.markRefused(a.id, reason: "not a JPEG", atMilliseconds: 5))
        #expect(try store.pendingPhotos(limit: 10).map(\.id) == [b.id])
        #expect(try store.photoCounts() == (waiting: 2, refused: 1))
        #expect(try store.retryRefused() == 1)
        #expect(try store.adoptPending(kiosk: "station-7") == 2)
        #expect(try store.pendingPhotos(limit: 10).map(\.kiosk) == ["station-7", "station-7"])
    }

    @Test func whichScansKeepAPhotoAndWithWhatLabel() {
        var r = sampleRecord("glass")
        #expect(FieldPhoto.label(for: r, settled: "glass") == nil)  // confident and accepted: nothing new
        r.asked = true
        #expect(FieldPhoto.label(for: r, settled: "glass")! == ("glass", .resident))  // chosen on the not-sure screen
        #expect(FieldPhoto.label(for: r, settled: nil)! == (nil, .none))  // left without choosing
        r.correction = "category:hazardous"
        #expect(FieldPhoto.label(for: r, settled: "category:hazardous")! == ("category:hazardous", .resident))
        r.asked = false
        r.correction = "metal"
        #expect(FieldPhoto.label(for: r, settled: "metal")! == ("metal", .resident))
    }

    @Test func photosFromOutsideAreChecked() {
        #expect(samplePhoto(1).problem == nil)
        var p = samplePhoto(1)
        p.jpeg = Data([0x89, 0x50, 0x4E, 0x47])
        #expect(p.problem?.hasSuffix("not a JPEG") == true)
        p = samplePhoto(1, label: "../etc")
        #expect(p.problem?.contains("is not a plain name") == true)
        p = samplePhoto(1, label: nil, source: .technician)
        #expect(p.problem?.contains("a label needs a source") == true)
        p = samplePhoto(1)
        p.jpeg = Data([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0, count: FieldPhoto.maximumJPEGBytes))
        #expect(p.problem?.contains("at most \(FieldPhoto.maximumJPEGBytes)") == true)
    }
}
