#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where installed files are looked for, for both programs: `share/kiosk` beside the binary's bin folder (e.g.
/// /usr/local/share/kiosk), /usr/local/share/kiosk and /usr/share/kiosk, then a development checkout's
/// `Resources` folder above the build folder.
public enum ResourceFolders {
    /// Installed folders, then the checkout's, in the order to search them.
    public static var all: [String] { installed + checkout }

    public static var installed: [String] {
        var prefix = executablePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        if prefix.isEmpty { prefix = "/usr" }
        var paths = [prefix + "/share/kiosk"]
        for dir in ["/usr/local/share/kiosk", "/usr/share/kiosk"] where !paths.contains(dir) { paths.append(dir) }
        return paths
    }

    /// `Resources` folders of a checkout containing the running executable (.build/<config>/kiosk).
    public static var checkout: [String] {
        var results: [String] = []
        var parts = executablePath.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        for _ in 0..<5 where parts.count > 1 {
            parts = parts.dropLast()
            let candidate = parts.joined(separator: "/") + "/Resources"
            if access(candidate, F_OK) == 0 { results.append(candidate) }
        }
        return results
    }

    public static func firstExisting(_ paths: [String]) -> String? {
        paths.first { access($0, R_OK) == 0 }
    }

    static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }
}
