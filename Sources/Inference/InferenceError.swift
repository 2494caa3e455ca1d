/// Why the engine could not import, load or run a model. Each case carries the file or node it is about.
public enum InferenceError: Error, Sendable, CustomStringConvertible {
    /// The ONNX file is not a readable protobuf (truncated, corrupt, or not ONNX at all).
    case malformedONNX(path: String, reason: String)
    /// The graph uses an operator (or an attribute value) the engine does not implement.
    case unsupportedOperator(op: String, node: String, reason: String)
    /// The graph is well-formed ONNX but not a network this engine can run.
    case invalidGraph(reason: String)
    /// The kiosk model file is damaged or of another format.
    case malformedModelFile(path: String, reason: String)
    case checksumMismatch(path: String)
    case unsupportedModelVersion(path: String, found: UInt32, supported: UInt32)
    /// An input tensor of the wrong size was given to the engine.
    case wrongInputShape(expected: [Int], got: [Int])
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// An XNNPACK call failed; `call` is the C function, `status` its `xnn_status`.
    case xnnpack(call: String, status: Int)
    /// Calibration could not be done (e.g. no pictures).
    case calibration(reason: String)

    public var description: String {
        switch self {
        case .malformedONNX(let path, let reason): "\(path): not a valid ONNX model (\(reason))"
        case .unsupportedOperator(let op, let node, let reason):
            "unsupported ONNX operator \(op) at node '\(node)': \(reason)"
        case .invalidGraph(let reason): "model graph cannot be run: \(reason)"
        case .malformedModelFile(let path, let reason): "\(path): not a valid kiosk model file (\(reason))"
        case .checksumMismatch(let path): "\(path): model file checksum does not match (file is damaged or was altered)"
        case .unsupportedModelVersion(let path, let found, let supported):
            "\(path): model file format version \(found) is not supported (this kiosk reads version \(supported))"
        case .wrongInputShape(let expected, let got):
            "input tensor has shape \(got), the model expects \(expected)"
        case .io(let path, let reason): "\(path): \(reason)"
        case .xnnpack(let call, let status): "XNNPACK \(call) failed with status \(status)"
        case .calibration(let reason): "calibration failed: \(reason)"
        }
    }
}
