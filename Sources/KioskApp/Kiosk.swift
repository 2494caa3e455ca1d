import ArgumentParser
import Inference
import KioskCore
import Logging

@main
struct Kiosk: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiosk",
        abstract: "Waste-sorting kiosk: recognise an item and tell which bin it goes in.",
        subcommands: [RunCommand.self, ClassifyCommand.self, BenchCommand.self, ModelCommand.self, CameraCommand.self, SyncCommand.self,
                      ExportCommand.self, EnrollCommand.self, StatusCommand.self, SelftestCommand.self],
        defaultSubcommand: RunCommand.self)

    static func bootstrapLogging(verbose: Bool, level: Logger.Level = .warning) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : level
            return handler
        }
    }
}

/// Options every engine command shares.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Model file (.kmodel, or .onnx with --backend fp32). Default: the installed model.")
    var model: String?

    @Option(name: .long, help: "int8 (XNNPACK) or fp32 (OpenBLAS reference).")
    var backend: InferenceBackend = .int8

    @Option(name: .long, help: "Threads for inference (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Labels file for an ONNX model, one per line.")
    var labels: String?

    @Flag(name: .long, help: "Log debug details to standard error.")
    var verbose = false

    func validate() throws {
        try InferenceThreads.validate(threads)
    }
}

/// One limit on `--threads` for every command that runs the model.
enum InferenceThreads {
    static let range = KioskConfiguration.inferenceThreads

    static func validate(_ threads: Int?) throws {
        if let threads, !range.contains(threads) {
            throw ValidationError("--threads must be between \(range.lowerBound) and \(range.upperBound), not \(threads)")
        }
    }
}

/// `--backend` takes the names the configuration file's `backend` takes.
extension InferenceBackend: ExpressibleByArgument {}
