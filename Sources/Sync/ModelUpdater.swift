#if canImport(Glibc)
import Glibc
#endif
import KioskCore
import Logging
import SyncWire

/// Asks the server which model this kiosk should run and, when it is a new one, downloads it (resuming a part
/// left by a cut connection), checks its signature, size and checksum, tries it on the trial photos and installs
/// it. The running app swaps to it at its next idle moment (it watches `ModelStore.activeVersion`).
public struct ModelUpdater: Sendable {
    /// What the composition root gives the sync: how to try a model, and which model runs when none is installed.
    public struct Hooks: Sendable {
        public var trial: ModelTrial
        public var bundled: @Sendable () -> ModelSlot?

        public init(trial: @escaping ModelTrial, bundled: @escaping @Sendable () -> ModelSlot?) {
            self.trial = trial
            self.bundled = bundled
        }
    }

    public enum Outcome: Sendable, Equatable {
        case noneAssigned
        case upToDate(version: String)
        /// Refused here before; not downloaded again.
        case skipped(version: String)
        case installed(ModelSlot)
        /// The manifest or the file failed a check; the current model keeps running.
        case refused(String)
    }

    public let store: ModelStore
    public let enrollment: Enrollment
    public let hooks: Hooks
    let logger: Logger

    public init(store: ModelStore, enrollment: Enrollment, hooks: Hooks, logger: Logger = Logger(label: "kiosk.models")) {
        self.store = store
        self.enrollment = enrollment
        self.hooks = hooks
        self.logger = logger
    }

    /// One look at the assignment and, when needed, one download and install. Network failures throw (the part
    /// downloaded so far is kept); a refused model is an outcome, noted in the store for the status.
    public func check(_ transport: CurlTransport, progress: @escaping () -> Void = {}) throws(SyncError) -> Outcome {
        guard let assignment = try transport.assignedModel() else { return .noneAssigned }
        guard let key = enrollment.modelKey else {
            return refuse("the server assigns a model but this kiosk has no signing key to check it with (enroll again)")
        }
        let manifest: ModelManifest
        do {
            manifest = try assignment.signed.open(publicKey: try ModelSigningKey.publicKey(base64: key))
        } catch {
            // Not refused by version: a forged manifest could name a good model's version.
            return refuse("the model the server assigns is refused: \(error)")
        }
        let state = (try? store.state()) ?? .init()
        let active = state.active?.version ?? hooks.bundled()?.version
        if manifest.version == active { return .upToDate(version: manifest.version) }
        if state.refused.contains(manifest.version) { return .skipped(version: manifest.version) }
        guard assignment.path.hasPrefix("api/v1/models/"), !assignment.path.contains("..") else {
            return refuse("the server names a strange download path \(assignment.path.prefix(80))")
        }

        store.notePending(manifest.version)
        let part = store.partPath(manifest.version)
        logger.info("downloading model", metadata: ["version": "\(manifest.version.prefix(16))", "bytes": "\(manifest.size)"])
        try transport.download(assignment.path, to: part, expectedSize: manifest.size, progress: progress)
        do {
            let slot = try store.install(file: part, signed: assignment.signed, publicKey: key, source: "server",
                                         current: hooks.bundled(), trial: hooks.trial)
            unlinkPart(part)
            logger.info("model installed", metadata: ["version": "\(slot.version.prefix(16))"])
            return .installed(slot)
        } catch {
            // A file that does not match its manifest may have been damaged on the way: download it afresh next
            // time. One that loads but answers differently is refused for good.
            let permanent = if case .disagrees = error { true } else { false }
            store.noteError(error.description, refusing: permanent ? manifest.version : nil)
            unlinkPart(part)
            logger.error("model refused", metadata: ["version": "\(manifest.version.prefix(16))", "reason": "\(error)"])
            return .refused(error.description)
        }
    }

    private func refuse(_ message: String) -> Outcome {
        store.noteError(message)
        logger.error("\(message)")
        return .refused(message)
    }

    private func unlinkPart(_ path: String) { unlink(path) }
}
