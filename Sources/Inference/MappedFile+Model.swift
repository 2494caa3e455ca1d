import KioskCore

extension MappedFile {
    /// Maps a model file, with the engine's error for a file that cannot be read.
    static func model(path: String) throws(InferenceError) -> MappedFile {
        do {
            return try MappedFile(path: path)
        } catch {
            throw .io(path: error.path, reason: error.reason)
        }
    }
}
