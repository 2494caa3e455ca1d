import Foundation

/// One parser of outside input under the fuzzer: `run` feeds it bytes and checks what it makes of them, and says
/// whether the parser accepted them. A rejected input must come back as the parser's typed error; an accepted one
/// must survive its consistency checks.
struct FuzzTarget: Sendable {
    var name: String
    /// What the target reads, for `kiosk-fuzz list`.
    var summary: String
    var run: @Sendable ([UInt8]) -> Bool

    static let all: [FuzzTarget] = [
        ImageTargets.image, ImageTargets.upload, ImageTargets.mjpeg, ModelTargets.model, ModelTargets.onnx, WireTargets.batch,
        WireTargets.bundle, WireTargets.gzip, ConfigurationTargets.configuration, ConfigurationTargets.catalogue,
        SearchTargets.items, WireTargets.claim, WireTargets.manifest,
    ]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Stops the process, naming the broken rule: a finding for the fuzzer, a failure for the corpus replay.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        printError("kiosk-fuzz: consistency check failed: \(message())\n")
        abort()
    }
}

/// One line on standard error.
func printError(_ line: String) {
    FileHandle.standardError.write(Data(line.utf8))
}
