internal import CJPEGFallback
internal import CTurboJPEG
import KioskCore

/// A libjpeg-turbo decompressor; owns its `tjhandle`.
public final class JPEGDecoder {
    private let handle: tjhandle

    public init() {
        // tjInitDecompress fails only when out of memory.
        guard let handle = tjInitDecompress() else { fatalError("tjInitDecompress failed: out of memory") }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// Decodes a JPEG (also an MJPEG frame) into RGB.
    ///
    /// - Parameter minimumShorterSide: decode at the smallest libjpeg-turbo scale whose shorter side is at least
    ///   this; nil decodes at full size.
    /// - Throws: `ImageError.corrupt`, `.tooSmall`, `.tooLarge`.
    public func decode(_ bytes: [UInt8], source: String, minimumShorterSide: Int? = nil) throws(ImageError)
        -> RGBImage
    {
        let result: Result<RGBImage, ImageError> = bytes.withUnsafeBytes { raw in
            do throws(ImageError) {
                return .success(try decode(raw, source: source, minimumShorterSide: minimumShorterSide))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Decodes JPEG bytes that someone else owns (e.g. a camera buffer lent by the driver), without copying them.
    public func decode(_ bytes: UnsafeRawBufferPointer, source: String, minimumShorterSide: Int? = nil)
        throws(ImageError) -> RGBImage
    {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw .corrupt(source: source, format: "JPEG", reason: "no data")
        }
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let header = tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        if header != 0 {
            // TurboJPEG 2.x names only the common sampling factors; libjpeg itself decodes any valid file.
            return try Self.decodeWithLibjpeg(base, count: bytes.count, source: source, minimumShorterSide: minimumShorterSide)
        }
        // TurboJPEG 2.1 reports success for a file that ends before any frame (libjpeg's source fakes an end).
        if width == 0 || height == 0 { throw .corrupt(source: source, format: "JPEG", reason: "no image frame in the file") }
        try ImageLimits.check(width: Int(width), height: Int(height), source: source)
        try Self.checkDensity(width: Int(width), height: Int(height), bytes: bytes.count, source: source)

        let (outWidth, outHeight) = Self.scaledSize(
            width: Int(width), height: Int(height), minimumShorterSide: minimumShorterSide)
        var pixels = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        let status = pixels.withUnsafeMutableBufferPointer { dst in
            tjDecompress2(
                handle, base, UInt(bytes.count), dst.baseAddress, Int32(outWidth), 0,
                Int32(outHeight), Int32(TJPF_RGB.rawValue), TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)
        }
        if status != 0 { throw .corrupt(source: source, format: "JPEG", reason: lastError()) }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// The width and height its frame header states, without decoding the pixels (libjpeg's header reader,
    /// which takes every valid sampling).
    static func dimensions(_ bytes: [UInt8], source: String) throws(ImageError) -> (width: Int, height: Int) {
        let errorSize = 256
        var error = [CChar](repeating: 0, count: errorSize)
        var width: Int32 = 0
        var height: Int32 = 0
        let status = bytes.withUnsafeBufferPointer { kiosk_jpeg_header($0.baseAddress!, $0.count, &width, &height, &error, errorSize) }
        guard status == 0 else {
            throw .corrupt(source: source, format: "JPEG", reason: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return (Int(width), Int(height))
    }

    /// libjpeg's own decoder (through the C shim's setjmp), at the smallest scale n/8 whose shorter side is still
    /// at least `minimumShorterSide`.
    static func decodeWithLibjpeg(_ base: UnsafePointer<UInt8>, count: Int, source: String, minimumShorterSide: Int?)
        throws(ImageError) -> RGBImage
    {
        let errorSize = 256
        var error = [CChar](repeating: 0, count: errorSize)
        func message() -> String { String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        var width: Int32 = 0
        var height: Int32 = 0
        guard kiosk_jpeg_header(base, count, &width, &height, &error, errorSize) == 0 else {
            throw .corrupt(source: source, format: "JPEG", reason: message())
        }
        try ImageLimits.check(width: Int(width), height: Int(height), source: source)
        try checkDensity(width: Int(width), height: Int(height), bytes: count, source: source)
        let shorter = Int(min(width, height))
        let scale = minimumShorterSide.flatMap { minimum in (1...8).first { (shorter * $0 + 7) / 8 >= minimum } } ?? 8
        let outWidth = (Int(width) * scale + 7) / 8, outHeight = (Int(height) * scale + 7) / 8
        var pixels = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        var decodedWidth: Int32 = 0
        var decodedHeight: Int32 = 0
        let status = pixels.withUnsafeMutableBufferPointer { dst in
            kiosk_jpeg_decode_rgb(base, count, Int32(scale), dst.baseAddress, dst.count, &decodedWidth, &decodedHeight,
                                  &error, errorSize)
        }
        guard status == 0 else { throw .corrupt(source: source, format: "JPEG", reason: message()) }
        guard Int(decodedWidth) == outWidth, Int(decodedHeight) == outHeight else {
            throw .corrupt(source: source, format: "JPEG", reason: "decoded \(decodedWidth)x\(decodedHeight), not \(outWidth)x\(outHeight)")
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }

    /// The most pixels a complete JPEG can hold per byte of file: every 8x8 block of every component needs at
    /// least one bit of entropy-coded data (a zero DC difference), so even a flat grey progressive picture stays
    /// under 512 pixels a byte. A file claiming more is cut short or crafted, and decoding it would still cost
    /// the memory and time of its full size (a 258-byte file claiming 7198x7966, found by the image fuzzer).
    static let maximumPixelsPerByte = 1024

    static func checkDensity(width: Int, height: Int, bytes: Int, source: String) throws(ImageError) {
        guard width * height <= bytes * maximumPixelsPerByte else {
            throw .corrupt(source: source, format: "JPEG",
                           reason: "its header claims \(width)x\(height) pixels in only \(bytes) bytes, more than any complete JPEG holds")
        }
    }

    /// The smallest libjpeg-turbo scaled size whose shorter side is still at least `minimumShorterSide`.
    static func scaledSize(width: Int, height: Int, minimumShorterSide: Int?) -> (Int, Int) {
        guard let minimum = minimumShorterSide else { return (width, height) }
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return (width, height) }
        var best = (width, height)
        for i in 0..<Int(count) {
            let f = factors[i]
            guard f.num <= f.denom else { continue }  // never upscale here
            let w = (width * Int(f.num) + Int(f.denom) - 1) / Int(f.denom)
            let h = (height * Int(f.num) + Int(f.denom) - 1) / Int(f.denom)
            if min(w, h) >= minimum && w * h < best.0 * best.1 { best = (w, h) }
        }
        return best
    }

    private func lastError() -> String {
        guard let message = tjGetErrorStr2(handle) else { return "unknown libjpeg-turbo error" }
        return String(cString: message)
    }
}

// A decompressor is used by one thread at a time.
@available(*, unavailable)
extension JPEGDecoder: Sendable {}
