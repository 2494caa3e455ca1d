import ArgumentParser
import KioskCore
import Testing

@testable import KioskApp

/// `kiosk run` and the model commands (`classify`, `bench`) accept the same `--threads`.
struct InferenceThreadsTests {
    @Test(arguments: [["run", "--threads", "100"], ["classify", "--threads", "100", "photo.jpg"]])
    func aHundredThreadsAreAccepted(arguments: [String]) throws {
        _ = try Kiosk.parseAsRoot(arguments)
    }

    @Test(arguments: [["run", "--threads", "0"], ["run", "--threads", "300"],
                      ["classify", "--threads", "0", "photo.jpg"], ["classify", "--threads", "300", "photo.jpg"]])
    func outOfRangeIsRefusedWithTheLimits(arguments: [String]) throws {
        do {
            _ = try Kiosk.parseAsRoot(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(Kiosk.message(for: error) == "--threads must be between 1 and 256, not \(arguments[2])")
        }
    }
}

/// `--backend` and the configuration file's `backend` take the same names, through the one type.
struct BackendChoiceTests {
    @Test(arguments: InferenceBackend.allCases)
    func theFileAndTheCommandLineTakeEachName(_ backend: InferenceBackend) throws {
        #expect(try EngineOptions.parse(["--backend", backend.rawValue]).backend == backend)
        let file = try KioskConfiguration(json: Array("{\"backend\": \"\(backend.rawValue)\"}".utf8), source: "kiosk.json")
        #expect(file.backend == backend)
    }

    @Test func anUnknownNameIsRefusedByBoth() {
        #expect(throws: (any Error).self) { try EngineOptions.parse(["--backend", "int4"]) }
        #expect(throws: ConfigurationError.self) {
            try KioskConfiguration(json: Array("{\"backend\": \"int4\"}".utf8), source: "kiosk.json")
        }
    }
}
