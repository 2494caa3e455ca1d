/// The kiosk prefers int8 (XNNPACK) and falls back to the fp32 reference on the same model file when the int8
/// backend cannot run it on this machine: an XNNPACK call fails (an unsupported CPU, a library built without the
/// kernels) or the graph is one the int8 path does not build. A missing or damaged file is no reason to fall
/// back: fp32 would read the same file and fail the same way, and the real error is the one to show.
public enum BackendFallback {
    /// Whether fp32 may succeed where int8 failed with `error`.
    public static func fp32MayRun(after error: InferenceError) -> Bool {
        switch error {
        case .xnnpack, .invalidGraph: true
        default: false
        }
    }

    /// Loads with `preferred`; when that is int8 and fails in a way fp32 does not share, loads with fp32 and
    /// returns the int8 error beside it (for the log).
    public static func load<Loaded>(
        preferred: ImageClassifier.Backend, _ load: (ImageClassifier.Backend) throws(InferenceError) -> Loaded
    ) throws(InferenceError) -> (loaded: Loaded, int8Failure: InferenceError?) {
        do {
            return (try load(preferred), nil)
        } catch {
            guard preferred == .int8, fp32MayRun(after: error) else { throw error }
            return (try load(.fp32), error)
        }
    }
}
