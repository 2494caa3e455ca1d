import Foundation
import KioskCore
import Testing

struct AtomicFileTests {
    @Test func replacesTheWholeFileWithTheModeAskedFor() throws {
        let folder = NSTemporaryDirectory() + "kiosk-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/secret.json"
        try AtomicFile.write(Array("old".utf8), to: path)
        try AtomicFile.write(Array("new contents".utf8), to: path, mode: 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new contents")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // No temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["secret.json"])
    }

    @Test func aMissingFolderIsAnErrorNamingThePath() {
        let path = "/nonexistent-kiosk-folder/x.json"
        do {
            try AtomicFile.write([1, 2, 3], to: path)
            Issue.record("wrote into a missing folder")
        } catch {
            #expect(error.path == path)
            #expect(error.reason.contains("cannot create"))
        }
    }
}
