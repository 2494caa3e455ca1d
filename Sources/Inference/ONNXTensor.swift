#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A constant from an ONNX graph (an initializer, a `Constant` node, or a dequantized weight), as fp32.
struct ONNXConstant {
    var dims: [Int]
    var values: [Float]
    /// Set when the constant was dequantized from int8: the scales used, per output channel (axis 0) or one.
    var quantizationScales: [Float]?

    var count: Int { values.count }
}

/// Reading `TensorProto` payloads, whichever of ONNX's storage fields the exporter chose.
extension Onnx_TensorProto {
    enum ElementType: Int32 {
        case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, double = 11
    }

    /// More elements than any tensor of a model the kiosk runs (8 GiB as fp32), so sizes in bytes cannot overflow.
    static let maximumElements = 1 << 31

    /// How many elements its shape holds. A negative dimension, or a shape whose product overflows or passes
    /// `maximumElements`, is an invalid graph (the ONNX fuzzer's dims multiplied past Int.max and trapped).
    func elementCount() throws(InferenceError) -> Int {
        var n = 1
        for d in dims {
            guard d >= 0 else { throw .invalidGraph(reason: "tensor '\(name)' has a negative dimension \(d)") }
            let (product, overflow) = n.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= Self.maximumElements else {
                let shape = dims.prefix(6).map(String.init).joined(separator: "x") + (dims.count > 6 ? "x… (\(dims.count) dimensions)" : "")
                throw .invalidGraph(reason: "tensor '\(name)' has shape \(shape): more than \(Self.maximumElements) elements")
            }
            n = product
        }
        return n
    }

    func checkStorage(node: String) throws(InferenceError) {
        if dataLocation == .external || !externalData.isEmpty {
            throw .unsupportedOperator(
                op: "TensorProto", node: node,
                reason: "tensor '\(name)' keeps its data in an external file; save the model with weights inside")
        }
    }

    /// The elements as Double, exact for every integer type the engine reads.
    func numbers(node: String) throws(InferenceError) -> [Double] {
        try checkStorage(node: node)
        guard let type = ElementType(rawValue: dataType) else {
            throw .unsupportedOperator(op: "TensorProto", node: node, reason: "tensor '\(name)' has data type \(dataType)")
        }
        let n = try elementCount()
        let result: [Double]
        if !rawData.isEmpty {
            let raw = rawData
            let width: Int =
                switch type {
                case .float, .int32: 4
                case .uint8, .int8: 1
                case .int64, .double: 8
                }
            guard raw.count == n * width else {
                throw .invalidGraph(reason: "tensor '\(name)' has \(raw.count) bytes of data for \(n) elements")
            }
            result = raw.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> [Double] in
                (0..<n).map { i in
                    switch type {
                    case .float: Double(Float(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian))
                    case .int32: Double(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                    case .uint8: Double(bytes[i])
                    case .int8: Double(Int8(bitPattern: bytes[i]))
                    case .int64: Double(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                    case .double: Double(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian)
                    }
                }
            }
        } else {
            switch type {
            case .float: result = floatData.map(Double.init)
            case .uint8, .int8, .int32: result = int32Data.map(Double.init)
            case .int64: result = int64Data.map(Double.init)
            case .double: result = doubleData
            }
            guard result.count == n else {
                throw .invalidGraph(reason: "tensor '\(name)' has \(result.count) elements, its shape needs \(n)")
            }
        }
        return result
    }

    /// fp32 elements; float tensors are read without a detour through Double.
    func floats(node: String) throws(InferenceError) -> [Float] {
        if dataType == ElementType.float.rawValue && !rawData.isEmpty {
            try checkStorage(node: node)
            let n = try elementCount()
            guard rawData.count == n * 4 else {
                throw .invalidGraph(reason: "tensor '\(name)' has \(rawData.count) bytes of data for \(n) elements")
            }
            return rawData.withUnsafeBytes { bytes in
                [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                    for i in 0..<n {
                        buffer[i] = Float(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
                    }
                    initialized = n
                }
            }
        }
        if dataType == ElementType.float.rawValue && rawData.isEmpty && dataLocation != .external {
            let n = try elementCount()
            guard floatData.count == n else {
                throw .invalidGraph(reason: "tensor '\(name)' has \(floatData.count) elements, its shape needs \(n)")
            }
            return floatData
        }
        return try numbers(node: node).map { Float($0) }
    }
}
