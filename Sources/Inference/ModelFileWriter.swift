import Crypto
import KioskCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Accumulates weight sections and writes a complete model file atomically (temp file, fsync, rename), so a
/// failed or interrupted write never leaves a partial model at the destination.
struct ModelFileWriter {
    private(set) var blob: [UInt8] = []

    init() {}

    /// A writer for weight sections already laid out (a model rewritten with another header).
    init(blob: [UInt8]) { self.blob = blob }

    /// Appends an array, 64-byte aligned; the section's offset is relative to the blob until `write` fixes it up.
    mutating func append<T>(_ values: [T]) -> ModelHeader.Section {
        while blob.count % 64 != 0 { blob.append(0) }
        let offset = blob.count
        values.withUnsafeBytes { blob.append(contentsOf: $0) }
        return ModelHeader.Section(offset: offset, count: values.count)
    }

    /// Serialises `header` (its sections relative to the blob) and writes the file.
    /// - Throws: `InferenceError.io`.
    func write(header: ModelHeader, to path: String) throws(InferenceError) {
        // The header's length decides where the blob starts, and the offsets inside the header decide its length:
        // iterate until the padded start no longer moves (at most a couple of rounds).
        var blobStart = 64
        var headerBytes: [UInt8] = []
        for _ in 0..<8 {
            let shifted = Self.shift(header, by: blobStart)
            headerBytes = Array((try? JSONEncoder().encode(shifted)) ?? Data())
            let needed = (16 + headerBytes.count + 63) / 64 * 64
            if needed == blobStart { break }
            blobStart = needed
        }
        var file: [UInt8] = KioskModel.magic
        withUnsafeBytes(of: KioskModel.formatVersion.littleEndian) { file.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(headerBytes.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: headerBytes)
        precondition(file.count <= blobStart, "header layout did not converge")
        file.append(contentsOf: [UInt8](repeating: 0, count: blobStart - file.count))
        file.append(contentsOf: blob)
        file.append(contentsOf: SHA256.hash(data: file))
        do {
            try AtomicFile.write(file, to: path)
        } catch {
            throw .io(path: error.path, reason: error.reason)
        }
    }

    static func shift(_ header: ModelHeader, by base: Int) -> ModelHeader {
        func s(_ section: ModelHeader.Section) -> ModelHeader.Section { .init(offset: section.offset + base, count: section.count) }
        var shifted = header
        shifted.layers = header.layers.map { layer in
            switch layer {
            case .convolution(var c):
                c.weights = s(c.weights)
                c.weightScales = s(c.weightScales)
                c.bias = s(c.bias)
                c.biasScales = s(c.biasScales)
                return .convolution(c)
            case .fullyConnected(var f):
                f.weights = s(f.weights)
                f.bias = s(f.bias)
                return .fullyConnected(f)
            default:
                return layer
            }
        }
        return shifted
    }
}
