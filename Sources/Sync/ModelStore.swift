#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import KioskCore
import SyncWire

/// A model file the kiosk can run, by its version (the file's own SHA-256).
public struct ModelSlot: Sendable, Equatable, Codable {
    public var version: String
    public var file: String
    /// "server", "file" (a technician's install) or "bundled" (the model the kiosk was installed with).
    public var source: String
    public var installedAt: String?

    public init(version: String, file: String, source: String, installedAt: String? = nil) {
        self.version = version
        self.file = file
        self.source = source
        self.installedAt = installedAt
    }

    enum CodingKeys: String, CodingKey {
        case version, file, source
        case installedAt = "installed_at"
    }
}

/// What a trial of a model file found: the file's own version, size and labels, and its answers on the trial
/// photos. Made by the composition root with the kiosk's real engine (this module does not run models).
public struct ModelTrialReport: Sendable, Equatable {
    public var version: String
    public var size: Int
    public var labels: [String]
    public var answers: [ModelManifest.Answer]

    public init(version: String, size: Int, labels: [String], answers: [ModelManifest.Answer]) {
        self.version = version
        self.size = size
        self.labels = labels
        self.answers = answers
    }
}

/// Loads a model file in a trial engine and judges the trial photos; throws when it cannot load or run it.
public typealias ModelTrial = @Sendable (_ path: String) throws -> ModelTrialReport

/// The kiosk's installed models: `models/` in the data folder holds the active model and the one before it, each
/// as `VERSION.kmodel` beside its signed manifest, and `state.json` says which is which. Every change writes the
/// files first and then replaces `state.json` in one rename, so a power cut or SIGKILL at any moment leaves the
/// old model or the new one active, never none. Changes from several processes (the app's sync, a technician's
/// command) take `models/.lock` in turn.
public final class ModelStore: Sendable {
    public struct State: Sendable, Equatable, Codable {
        /// nil: the bundled model.
        public var active: ModelSlot?
        public var previous: ModelSlot?
        /// A download under way (its `.part` file) and how far it got.
        public var pending: String?
        public var lastError: String?
        public var lastErrorAt: String?
        /// Versions refused or failed here; the kiosk does not download them again.
        public var refused: [String] = []
        /// Times the kiosk went back to the previous model by itself because the active one did not load.
        public var automaticRollbacks: Int = 0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case active, previous, pending, refused
            case lastError = "last_error"
            case lastErrorAt = "last_error_at"
            case automaticRollbacks = "automatic_rollbacks"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            active = try c.decodeIfPresent(ModelSlot.self, forKey: .active)
            previous = try c.decodeIfPresent(ModelSlot.self, forKey: .previous)
            pending = try c.decodeIfPresent(String.self, forKey: .pending)
            lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
            lastErrorAt = try c.decodeIfPresent(String.self, forKey: .lastErrorAt)
            refused = try c.decodeIfPresent([String].self, forKey: .refused) ?? []
            automaticRollbacks = try c.decodeIfPresent(Int.self, forKey: .automaticRollbacks) ?? 0
        }
    }

    public let directory: String
    private let now: @Sendable () -> Int64

    public init(dataDirectory: String, now: @escaping @Sendable () -> Int64 = { WallClock.nowMilliseconds }) {
        directory = (dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory) + "/models"
        self.now = now
    }

    var statePath: String { directory + "/state.json" }
    func modelPath(_ version: String) -> String { "\(directory)/\(version).kmodel" }
    func manifestPath(_ version: String) -> String { "\(directory)/\(version).manifest.json" }
    public func partPath(_ version: String) -> String { "\(directory)/\(version).part" }

    /// The state as last committed (empty when nothing was ever installed).
    public func state() throws(ModelStoreError) -> State {
        guard let data = FileManager.default.contents(atPath: statePath) else {
            if FileManager.default.fileExists(atPath: statePath) { throw .io("\(statePath) cannot be read") }
            return State()
        }
        do {
            return try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw .io("\(statePath) is damaged (\(error)); kiosk model rollback or install repairs it")
        }
    }

    /// The version the kiosk should be running now (nil: the bundled model); cheap enough to ask every second.
    public func activeVersion() -> String? { (try? state())?.active?.version }

    /// Checks a model file and, when it is signed by the city (or `unsigned` is allowed), says the same as its
    /// manifest and answers the trial photos as the manifest says, makes it the active model; the one before
    /// becomes the previous. Nothing changes when a check fails.
    /// - Parameters:
    ///   - signed: the manifest beside the file; nil only with `allowUnsigned`.
    ///   - current: the model running when none was installed yet (the bundled one), kept as the previous.
    @discardableResult
    public func install(file: String, signed: SignedManifest?, publicKey: String?, allowUnsigned: Bool = false,
                        source: String, current: ModelSlot?, trial: ModelTrial) throws(ModelStoreError) -> ModelSlot {
        var manifest: ModelManifest?
        if let signed {
            if let publicKey {
                do {
                    manifest = try signed.open(publicKey: try ModelSigningKey.publicKey(base64: publicKey))
                } catch {
                    throw .refused(error.description)
                }
            } else if !allowUnsigned {
                throw .refused("this kiosk has no signing key to check the manifest with (enroll again, or kiosk enroll --key-file)")
            }
        } else if !allowUnsigned {
            throw .refused("no signed manifest: a model needs the city's signature (--unsigned installs one without, on this kiosk only)")
        }
        if let manifest {
            var st = stat()
            guard stat(file, &st) == 0 else { throw .io("\(file): cannot read (\(String(cString: strerror(errno))))") }
            guard Int(st.st_size) == manifest.size else {
                throw .refused("\(file) has \(st.st_size) bytes, the manifest says \(manifest.size): damaged or not this model")
            }
        }
        let report: ModelTrialReport
        do {
            report = try trial(file)
        } catch {
            throw .refused("\(file) does not load or run: \(error)")
        }
        if let manifest {
            guard report.version == manifest.version else {
                throw .refused("\(file) is model \(report.version.prefix(16)), the manifest is for \(manifest.version.prefix(16))")
            }
            guard report.labels == manifest.labels else { throw .disagrees("\(file): its labels differ from the manifest's") }
            if let disagreement = manifest.disagreement(with: report.answers) {
                throw .disagrees("\(file) fails its trial: \(disagreement)")
            }
        }
        let version = report.version
        return try locked { () throws(ModelStoreError) -> ModelSlot in
            var state = try state()
            if state.active?.version == version, let active = state.active { return active }
            let slot = ModelSlot(version: version, file: modelPath(version), source: source,
                                 installedAt: WallClock.iso8601(milliseconds: now()))
            do {
                if file != slot.file {
                    guard let bytes = FileManager.default.contents(atPath: file) else { throw ModelStoreError.io("\(file): cannot read") }
                    try AtomicFile.write([UInt8](bytes), to: slot.file)
                }
                if let signed {
                    try AtomicFile.write([UInt8](try WireJSON.encoder().encode(signed)), to: manifestPath(version))
                }
            } catch let error as ModelStoreError {
                throw error
            } catch {
                throw .io("cannot store the model: \(error)")
            }
            state.previous = state.active ?? current
            state.active = slot
            if state.pending == version { state.pending = nil }
            state.refused.removeAll { $0 == version }
            try commit(state)
            prune(keeping: state)
            return slot
        }
    }

    /// Makes the previous model active again (and the active one the previous); answers the now active one.
    public func rollback() throws(ModelStoreError) -> ModelSlot {
        try locked { () throws(ModelStoreError) -> ModelSlot in
            var state = try state()
            guard let previous = state.previous else { throw .nothingToRollBackTo }
            guard FileManager.default.fileExists(atPath: previous.file) else { throw .io("\(previous.file): the previous model's file is gone") }
            state.previous = state.active
            state.active = previous
            try commit(state)
            return previous
        }
    }

    /// The active model would not load: the previous becomes active by itself, the failed version is not taken
    /// again, and the error is kept for `kiosk model status` and the heartbeat. Answers the model to load now
    /// (nil: the bundled one).
    public func activeFailed(_ version: String, reason: String) throws(ModelStoreError) -> ModelSlot? {
        try locked { () throws(ModelStoreError) -> ModelSlot? in
            var state = try state()
            guard state.active?.version == version else { return state.active }
            let back = state.previous
            state.active = back
            state.previous = nil
            if !state.refused.contains(version) { state.refused.append(version) }
            state.automaticRollbacks += 1
            state.lastError = "model \(version.prefix(16)) failed to load (\(reason)); went back to "
                + (back.map { "\($0.version.prefix(16))" } ?? "the bundled model")
            state.lastErrorAt = WallClock.iso8601(milliseconds: now())
            try commit(state)
            return back
        }
    }

    /// Keeps an error (a refused or failed download) for the status and heartbeat; with `refuse`, the version is
    /// not downloaded again.
    public func noteError(_ message: String, refusing version: String? = nil) {
        try? locked { () throws(ModelStoreError) in
            var state = try state()
            state.lastError = message
            state.lastErrorAt = WallClock.iso8601(milliseconds: now())
            if let version {
                if !state.refused.contains(version) { state.refused.append(version) }
                if state.pending == version { state.pending = nil }
                unlink(partPath(version))
            }
            try commit(state)
        }
    }

    /// Marks a download under way, so that the status shows it and a later sync resumes it.
    public func notePending(_ version: String) {
        try? locked { () throws(ModelStoreError) in
            var state = try state()
            guard state.pending != version else { return }
            if let old = state.pending { unlink(partPath(old)) }
            state.pending = version
            try commit(state)
        }
    }

    private func commit(_ state: State) throws(ModelStoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try AtomicFile.write([UInt8](try encoder.encode(state)) + [0x0A], to: statePath)
        } catch {
            throw .io("cannot write \(statePath): \(error)")
        }
    }

    /// Removes model files neither slot names (after the state that stopped naming them is on disk).
    private func prune(keeping state: State) {
        let kept = Set([state.active?.version, state.previous?.version, state.pending].compactMap { $0 })
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            let version = String(name.prefix { $0 != "." })
            guard version.count == 64, !kept.contains(version) else { continue }
            if name.hasSuffix(".kmodel") || name.hasSuffix(".manifest.json") || name.hasSuffix(".part") {
                unlink("\(directory)/\(name)")
            }
        }
    }

    /// Runs `body` holding `models/.lock` (an flock: released by the kernel if the process dies).
    private func locked<R>(_ body: () throws(ModelStoreError) -> R) throws(ModelStoreError) -> R {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io("cannot create \(directory): \(error)")
        }
        let fd = open(directory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot open \(directory)/.lock (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw .io("cannot lock \(directory)/.lock (\(String(cString: strerror(errno))))") }
        }
        return try body()
    }
}

public enum ModelStoreError: Error, Equatable, CustomStringConvertible {
    /// The model was checked and not installed; the old one keeps running.
    case refused(String)
    /// The model loads but answers the trial photos otherwise than its manifest: refused for good.
    case disagrees(String)
    case io(String)
    case nothingToRollBackTo

    public var description: String {
        switch self {
        case .refused(let m), .disagrees(let m): return "model refused: \(m); the current model keeps running"
        case .io(let m): return m
        case .nothingToRollBackTo: return "there is no previous model to go back to"
        }
    }
}
