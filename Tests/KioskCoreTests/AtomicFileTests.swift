import Foundation
import KioskCore
import Testing

struct AtomicFileTests {
    static func makeFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "kiosk-atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func replacesTheWholeFileWithTheModeAskedFor() throws {
        let folder = try Self.makeFolder()
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

    @Test func aWriterShowsTheFileOnlyWhenCommittedAndLeavesNothingWhenAbandoned() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/clip.mjpeg"
        try AtomicFile.write(Array("previous clip".utf8), to: path)
        do {
            let writer = try AtomicFileWriter(path: path)
            try writer.append(Array("part one, ".utf8))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous clip")  // not yet replaced
        }
        // Abandoned (e.g. the camera failed mid-recording): the old file stays, no temporary file is left.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous clip")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["clip.mjpeg"])
        let writer = try AtomicFileWriter(path: path)
        for part in ["part one, ", "part two"] {
            try writer.append(Array(part.utf8))
        }
        try writer.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "part one, part two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["clip.mjpeg"])
        #expect(throws: FileWriteError.self) { try writer.commit() }
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
