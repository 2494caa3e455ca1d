import Foundation
import Imaging
import KioskCore

/// The ONNX Runtime fixtures written by `scripts/oracle/make_resnet50.py` (the test command generates them
/// and sets KIOSK_ORACLE_DIR; without it the oracle tests are skipped).
struct OracleFixtures {
    static let directory = ProcessInfo.processInfo.environment["KIOSK_ORACLE_DIR"]
    static let classCount = 6

    let root: URL

    init() throws {
        guard let directory = Self.directory else { throw CocoaError(.fileNoSuchFile) }
        root = URL(fileURLWithPath: directory)
    }

    var fp32Model: String { root.appendingPathComponent("resnet50.onnx").path }
    var qdqModel: String { root.appendingPathComponent("resnet50-qdq.onnx").path }
    var labels: [String] {
        get throws {
            try String(contentsOf: root.appendingPathComponent("labels.txt"), encoding: .utf8)
                .split(separator: "\n").map(String.init)
        }
    }

    func pictures(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".png") }.sorted()
            .map { root.appendingPathComponent(folder).appendingPathComponent($0).path }
    }

    /// ONNX Runtime's logits, one row per input picture.
    func ortLogits(_ name: String) throws -> [[Float]] {
        let data = try Data(contentsOf: root.appendingPathComponent(name))
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return stride(from: 0, to: floats.count, by: Self.classCount).map { Array(floats[$0..<($0 + Self.classCount)]) }
    }
}

enum Stats {
    static func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] }! }

    static func margin(_ v: [Float]) -> Float {
        let s = v.sorted(by: >)
        return s[0] - s[1]
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
        let na = a.map { $0 * $0 }.reduce(0, +).squareRoot()
        let nb = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return dot / (na * nb)
    }
}
