internal import CTurboJPEG
import KioskCore

/// A libjpeg-turbo compressor; owns its `tjhandle`.
public final class JPEGEncoder {
    private let handle: tjhandle

    public init() {
        // tjInitCompress fails only when out of memory.
        guard let handle = tjInitCompress() else { fatalError("tjInitCompress failed: out of memory") }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Compresses RGB pixels to a baseline JPEG (4:2:0).
    /// - Throws: `ImageError.corrupt` naming `destination` when libjpeg-turbo fails.
    public func encode(_ image: RGBImage, quality: Int = 90, destination: String) throws(ImageError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(max(1, min(100, quality))), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            let reason = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown libjpeg-turbo error"
            throw .corrupt(source: destination, format: "JPEG", reason: "cannot encode: \(reason)")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}

// A compressor is used by one thread at a time.
@available(*, unavailable)
extension JPEGEncoder: Sendable {}
