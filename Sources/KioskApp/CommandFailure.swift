import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Prints one line naming what went wrong and ends the command with a non-zero status.
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandleOutput.standardError("kiosk: error: \(message)\n")
    return ExitCode(code)
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
