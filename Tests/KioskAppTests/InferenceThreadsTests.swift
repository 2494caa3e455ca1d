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

/// The configuration file names the same backends as `--backend`, and each maps to its engine backend.
struct BackendChoiceTests {
    @Test func theFileAndTheCommandLineNameTheSameBackends() {
        #expect(KioskConfiguration.backends == BackendChoice.allCases.map(\.rawValue))
        #expect(BackendChoice.allCases.map(\.engine.rawValue) == BackendChoice.allCases.map(\.rawValue))
    }
}
