import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds installed files: the default model, the catalogue and the icons. The same lookup serves an installed
/// kiosk (share/kiosk beside the binary's bin folder, e.g. /usr/local/share/kiosk; /var/lib/kiosk) and a
/// development checkout (Resources/ beside the build folder).
enum ResourceLocator {
    static let environment = ProcessInfo.processInfo.environment

    /// Where the default model is looked for, in order.
    static var modelCandidates: [String] {
        var paths: [String] = []
        if let path = environment["KIOSK_MODEL"] { paths.append(path) }
        paths += ["/var/lib/kiosk/model.kmodel"] + installedResources.map { "\($0)/models/default.kmodel" }
        paths += checkoutResources.map { "\($0)/models/default.kmodel" }
        return paths
    }

    static var catalogueCandidates: [String] {
        var paths: [String] = []
        if let dir = environment["KIOSK_RESOURCES"] { paths.append("\(dir)/catalogue.json") }
        paths += ["/etc/kiosk/catalogue.json"] + installedResources.map { "\($0)/catalogue.json" }
        paths += checkoutResources.map { "\($0)/catalogue.json" }
        return paths
    }

    /// Folders with the bins' icons (the catalogue names the files).
    static var iconCandidates: [String] {
        var paths: [String] = []
        if let dir = environment["KIOSK_RESOURCES"] { paths.append("\(dir)/icons") }
        paths += installedResources.map { "\($0)/icons" }
        paths += checkoutResources.map { "\($0)/icons" }
        return paths
    }

    static func firstExisting(_ paths: [String]) -> String? {
        paths.first { access($0, R_OK) == 0 }
    }

    /// Where scripts/install-pi puts the resources: `share/kiosk` under the binary's prefix, then the usual places.
    private static var installedResources: [String] {
        let prefix = URL(fileURLWithPath: executablePath).deletingLastPathComponent().deletingLastPathComponent()
        var paths = [prefix.appendingPathComponent("share/kiosk").path]
        for dir in ["/usr/local/share/kiosk", "/usr/share/kiosk"] where !paths.contains(dir) { paths.append(dir) }
        return paths
    }

    /// `Resources` folders of a checkout containing the running executable (.build/<config>/kiosk).
    private static var checkoutResources: [String] {
        var results: [String] = []
        var dir = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
        for _ in 0..<5 {
            dir = dir.deletingLastPathComponent()
            let candidate = dir.appendingPathComponent("Resources").path
            if access(candidate, F_OK) == 0 { results.append(candidate) }
        }
        return results
    }

    private static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// The model to use, or a message saying where we looked and how to get one.
    static func model(explicit: String?) -> Result<String, ModelNotFound> {
        if let explicit { return .success(explicit) }
        if let found = firstExisting(modelCandidates) { return .success(found) }
        return .failure(ModelNotFound(looked: modelCandidates))
    }

    struct ModelNotFound: Error, CustomStringConvertible {
        var looked: [String]
        var description: String {
            "no model installed (looked in \(looked.joined(separator: ", "))); "
                + "make one with `kiosk model quantize --onnx F --labels L --calibration DIR --out M` and pass --model M "
                + "or set KIOSK_MODEL (see README: Models)"
        }
    }
}
