import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Built two ways. With -D FUZZING (scripts/fuzz: -sanitize=fuzzer,address -parse-as-library), libFuzzer's own
// main drives `LLVMFuzzerTestOneInput` for the target named by KIOSK_FUZZ_TARGET. Otherwise this is a command
// that replays a corpus through a target (the test command's regression check) and writes the generated seeds.

#if FUZZING
import CLibFuzzer

/// The target KIOSK_FUZZ_TARGET names, chosen once before the driver starts.
nonisolated(unsafe) var selected: FuzzTarget?

func selectTarget() -> Bool {
    let name = ProcessInfo.processInfo.environment["KIOSK_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.named(name) else {
        printError("kiosk-fuzz: set KIOSK_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n")
        return false
    }
    selected = target
    return true
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    if selected == nil && !selectTarget() { exit(2) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = selected?.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// The program's entry point where SwiftPM links one (it renames an executable's `main`): hands over to libFuzzer's
/// driver. Where libFuzzer's own `main` is linked instead, it calls the two functions above.
@_cdecl("kiosk_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    guard selectTarget() else { return 2 }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzerTestOneInput(data, size) }
}
#else
@main
enum KioskFuzzCommand {
    static func usage() -> Never {
        printError("""
            usage: kiosk-fuzz list
                   kiosk-fuzz replay TARGET FILE|FOLDER...   (every file through the target; non-zero on a finding)
                   kiosk-fuzz seed FIXTURES CORPUS           (writes the generated seeds)

            """)
        exit(2)
    }

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "list":
            for t in FuzzTarget.all { print("\(t.name)\t\(t.summary)") }
        case "replay":
            guard arguments.count >= 3, let target = FuzzTarget.named(arguments[1]) else { usage() }
            var files: [String] = []
            for path in arguments.dropFirst(2) {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                    printError("kiosk-fuzz: \(path): no such file or folder\n")
                    exit(1)
                }
                if isFolder.boolValue {
                    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                    files += names.sorted().map { path + "/" + $0 }
                } else {
                    files.append(path)
                }
            }
            var accepted = 0
            for file in files {
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    printError("kiosk-fuzz: \(file): cannot read\n")
                    exit(1)
                }
                if target.run([UInt8](bytes)) { accepted += 1 }
            }
            print("\(target.name): \(files.count) inputs (\(accepted) accepted), no finding")
        case "seed":
            guard arguments.count == 3 else { usage() }
            do {
                try Seeds.write(fixtures: arguments[1], to: arguments[2])
            } catch {
                printError("kiosk-fuzz: seed: \(error)\n")
                exit(1)
            }
        default:
            usage()
        }
    }
}
#endif
