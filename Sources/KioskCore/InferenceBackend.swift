/// Which inference backend runs the model, named once for the command line, the configuration file and the
/// engine: `int8` (XNNPACK, falling back to fp32 when it cannot run) or `fp32` (the OpenBLAS reference).
public enum InferenceBackend: String, Sendable, CaseIterable {
    /// XNNPACK int8; needs a kiosk model file.
    case int8
    /// OpenBLAS fp32 reference; runs an ONNX file as imported, or a kiosk model file's dequantized weights.
    case fp32

    /// The names, quoted and joined for an error line: `"int8" or "fp32"`.
    public static var quotedNames: String { allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ") }
}
