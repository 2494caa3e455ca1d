import Imaging
import KioskCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The engine behind the `Classifier` protocol: a loaded model on one backend, safe to call from any thread
/// (calls are serialised; one forward pass at a time owns the planned buffers).
public final class ImageClassifier: Classifier {
    public typealias Backend = InferenceBackend

    private enum Engine {
        case fp32(FP32Backend, input: UnsafeMutableBufferPointer<Float>)
        case int8(XNNPackBackend)
    }

    /// Owns the engine and its scratch buffers; one per classifier.
    private final class State {
        let engine: Engine
        let logits: UnsafeMutableBufferPointer<Float>

        init(engine: Engine, classCount: Int) {
            self.engine = engine
            logits = .allocate(capacity: classCount)
            logits.initialize(repeating: 0)
        }

        deinit {
            if case .fp32(_, let input) = engine { input.deallocate() }
            logits.deallocate()
        }
    }

    public let labels: [String]
    public let preprocessing: Preprocessing
    public let backend: Backend
    public let threads: Int
    /// The kiosk model file, when one was loaded (nil for an ONNX file on fp32).
    public let model: KioskModel?
    private let state: Mutex<State>

    /// Number of online processors: the default thread count.
    public static var defaultThreads: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Loads a kiosk model file (int8 or fp32) or an ONNX file (fp32 only).
    ///
    /// - Parameter labels: for an ONNX file, the labels in output order (a kiosk model file carries its own).
    /// - Throws: `InferenceError` for a missing, damaged or unsupported model.
    public init(modelPath: String, backend: Backend, threads: Int = ImageClassifier.defaultThreads, labels onnxLabels: [String]? = nil)
        throws(InferenceError)
    {
        self.backend = backend
        self.threads = max(1, threads)
        if try Self.isKioskModel(modelPath) {
            let model = try KioskModel(path: modelPath)
            self.model = model
            labels = model.labels
            preprocessing = model.preprocessing
            switch backend {
            case .int8:
                state = Mutex(State(engine: .int8(try XNNPackBackend(model: model, threads: self.threads)), classCount: labels.count))
            case .fp32:
                let network = model.dequantizedNetwork()
                state = Mutex(State(engine: Self.fp32Engine(network, threads: self.threads), classCount: labels.count))
            }
        } else {
            guard backend == .fp32 else {
                throw .malformedModelFile(
                    path: modelPath,
                    reason: "this is not a kiosk model file; an ONNX model runs on --backend fp32, or quantize it with `kiosk model quantize`")
            }
            let network = try ONNXImporter.load(path: modelPath)
            let names = onnxLabels ?? (0..<network.classCount).map { "class_\($0)" }
            guard names.count == network.classCount else {
                throw .invalidGraph(reason: "\(names.count) labels given for a model with \(network.classCount) outputs")
            }
            model = nil
            labels = names
            let s = network.input
            preprocessing = .imageNet(inputWidth: s.width, inputHeight: s.height)
            state = Mutex(State(engine: Self.fp32Engine(network, threads: self.threads), classCount: names.count))
        }
    }

    private static func fp32Engine(_ network: Network, threads: Int) -> Engine {
        let input = UnsafeMutableBufferPointer<Float>.allocate(capacity: network.input.count)
        input.initialize(repeating: 0)
        return .fp32(FP32Backend(network: network, threads: threads), input: input)
    }

    private static func isKioskModel(_ path: String) throws(InferenceError) -> Bool {
        let file = try MappedFile.model(path: path)
        return file.bytes.count >= 8 && Array(file.bytes[0..<8]) == KioskModel.magic
    }

    /// Classifies a picture of any size (resized and cropped as the model expects).
    public func classify(_ image: RGBImage) throws -> Classification {
        Classification(logits: try logits(for: image), labels: labels)
    }

    /// Raw logits for a picture of any size.
    public func logits(for image: RGBImage) throws(InferenceError) -> [Float] {
        let cropped = preprocessing.crop(image)
        return try state.withLock { state throws(InferenceError) -> [Float] in
            switch state.engine {
            case .fp32(_, let input): preprocessing.writePlanar(cropped, into: input)
            case .int8(let xnn): preprocessing.writeInterleavedQuantized(cropped, parameters: xnn.inputParameters, into: xnn.input)
            }
            try Self.forward(state)
            return Array(state.logits)
        }
    }

    /// Raw logits for an already normalised NCHW tensor (the form ONNX Runtime is given in tests).
    public func logits(planar tensor: [Float]) throws(InferenceError) -> [Float] {
        let s = (3, preprocessing.cropHeight, preprocessing.cropWidth)
        guard tensor.count == s.0 * s.1 * s.2 else {
            throw .wrongInputShape(expected: [1, s.0, s.1, s.2], got: [tensor.count])
        }
        return try state.withLock { state throws(InferenceError) -> [Float] in
            switch state.engine {
            case .fp32(_, let input):
                _ = input.update(fromContentsOf: tensor)
            case .int8(let xnn):
                let plane = s.1 * s.2
                for i in 0..<plane {
                    for c in 0..<3 { xnn.input[i * 3 + c] = xnn.inputParameters.quantize(tensor[c * plane + i]) }
                }
            }
            try Self.forward(state)
            return Array(state.logits)
        }
    }

    /// Runs the network again on the input already in place: what a benchmark times. Allocates nothing.
    public func forwardAgain() throws(InferenceError) {
        try state.withLock { state throws(InferenceError) in try Self.forward(state) }
    }

    private static func forward(_ state: State) throws(InferenceError) {
        switch state.engine {
        case .fp32(let backend, let input): backend.run(input: UnsafeBufferPointer(input), logits: state.logits)
        case .int8(let backend): try backend.run(logits: state.logits)
        }
    }
}
