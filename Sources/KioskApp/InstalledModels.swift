import Foundation
import Inference
import KioskCore
import Logging
import Sync
import SyncWire
import Synchronization

/// The composition of model updates on the kiosk: which file to load (the installed active model, else the
/// bundled one), what happens when it does not load (back to the previous by itself), and the trial a new
/// model must pass (the real engine on the trial photos).
struct InstalledModels: Sendable {
    let store: ModelStore
    let backend: InferenceBackend
    let logger = Logger(label: "kiosk.models")

    init(dataDirectory: String, backend: InferenceBackend) {
        store = ModelStore(dataDirectory: dataDirectory)
        self.backend = backend
    }

    var hooks: ModelUpdater.Hooks {
        let backend = self.backend
        return ModelUpdater.Hooks(trial: { path in try Self.trial(path, backend: backend) }, bundled: { Self.bundled() })
    }

    /// The bundled model (the one installed with the kiosk), by version; read once.
    static func bundled() -> ModelSlot? { bundledSlot.withLock { cached in
        if let cached { return cached }
        guard case .success(let path) = ResourceLocator.model(explicit: nil), let model = try? KioskModel(path: path) else { return nil }
        cached = ModelSlot(version: model.checksum, file: path, source: "bundled")
        return cached
    } }

    private static let bundledSlot = Mutex<ModelSlot?>(nil)

    /// Loads the file in a trial engine (one thread: the screen's engine keeps the others) and judges the trial
    /// photos the kiosk was installed with.
    static func trial(_ path: String, backend: InferenceBackend) throws -> ModelTrialReport {
        guard let folder = ResourceLocator.firstExisting(ResourceLocator.trialPhotoCandidates) else {
            throw TrialFailure(description: "no trial photos installed (looked in \(ResourceLocator.trialPhotoCandidates.joined(separator: ", ")))")
        }
        let (classifier, _) = try BackendFallback.load(preferred: backend) { (backend) throws(InferenceError) in
            try ImageClassifier(modelPath: path, backend: backend, threads: 1)
        }
        guard let model = classifier.model else { throw TrialFailure(description: "\(path) is not a kiosk model file") }
        let judged = try TrialPhotos.judge(classifier, folder: folder)
        return ModelTrialReport(
            version: model.checksum, size: model.fileSize, labels: model.labels,
            answers: judged.map { .init(photo: $0.photo, photoSHA256: $0.sha256, label: $0.label, probability: $0.probability) })
    }

    struct TrialFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// The file the engine should load now: the active installed model, or the bundled one.
    func activeFile() -> (version: String?, path: String?) {
        guard let active = try? store.state().active else { return (nil, nil) }
        return (active.version, active.file)
    }

    /// Loads the active model with `load`; when it fails, the store goes back to the previous model by itself
    /// (noting why) and that one is loaded, down to the bundled model.
    func loadActive<T>(_ load: (String?) throws -> T) throws -> T {
        var attempts = 0
        while true {
            let (version, path) = activeFile()
            guard let version, let path else { return try load(nil) }
            do {
                return try load(path)
            } catch {
                attempts += 1
                logger.error("installed model does not load; going back to the previous", metadata: ["version": "\(version.prefix(16))", "error": "\(error)"])
                _ = try? store.activeFailed(version, reason: "\(error)")
                if attempts >= 3 { return try load(nil) }
            }
        }
    }
}
