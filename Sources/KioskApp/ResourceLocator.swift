import Foundation
import KioskCore

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

    static func firstExisting(_ paths: [String]) -> String? { ResourceFolders.firstExisting(paths) }

    private static var installedResources: [String] { ResourceFolders.installed }
    private static var checkoutResources: [String] { ResourceFolders.checkout }

    /// The photos every model is tried on before it is installed (see TrialPhotos).
    static var trialPhotoCandidates: [String] {
        var paths: [String] = []
        if let dir = environment["KIOSK_RESOURCES"] { paths.append("\(dir)/trial-photos") }
        return paths + ResourceFolders.all.map { "\($0)/trial-photos" }
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
