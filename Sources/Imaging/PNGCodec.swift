internal import CPNG
import KioskCore

/// An RGBA picture (icons with transparent corners), 8 bits per channel, rows packed.
public struct RGBAImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]
}

/// PNG with alpha (the screen's icons) and PNG writing (screenshots), through libpng's simplified API.
public enum PNGCodec {
    /// Decodes a PNG keeping its alpha channel.
    public static func decodeRGBA(file path: String) throws(ImageError) -> RGBAImage {
        let bytes = try FileBytes.read(path)
        // As in PNGDecoder: libpng reads the buffer until finish_read, so both calls share one withUnsafeBytes
        // (an optimised build freed the array in between: one icon of six failed in release builds only).
        let result: Result<RGBAImage, ImageError> = bytes.withUnsafeBytes { buffer in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&image) }
            if png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count) == 0 {
                return .failure(.corrupt(source: path, format: "PNG", reason: "not a PNG file"))
            }
            do throws(ImageError) {
                try ImageLimits.check(width: Int(image.width), height: Int(image.height), source: path)
            } catch {
                return .failure(error)
            }
            image.format = UInt32(PNG_FORMAT_RGB) | UInt32(PNG_FORMAT_FLAG_ALPHA)
            let width = Int(image.width), height = Int(image.height)
            var pixels = [UInt8](repeating: 0, count: width * height * 4)
            let finished = pixels.withUnsafeMutableBytes {
                png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 4), nil)
            }
            if finished == 0 { return .failure(.corrupt(source: path, format: "PNG", reason: "cannot decode")) }
            return .success(RGBAImage(width: width, height: height, pixels: pixels))
        }
        return try result.get()
    }

    /// Encodes RGB pixels as a PNG file's bytes.
    public static func encode(_ image: RGBImage, destination: String) throws(ImageError) -> [UInt8] {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = UInt32(PNG_FORMAT_RGB)
        var size = 0
        // First call measures, second writes.
        let measured = image.pixels.withUnsafeBytes {
            png_image_write_to_memory(&png, nil, &size, 0, $0.baseAddress, Int32(image.width * 3), nil)
        }
        guard measured != 0, size > 0 else {
            png_image_free(&png)
            throw .corrupt(source: destination, format: "PNG", reason: "cannot encode")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBytes { out in
            image.pixels.withUnsafeBytes {
                png_image_write_to_memory(&png, out.baseAddress, &size, 0, $0.baseAddress, Int32(image.width * 3), nil)
            }
        }
        png_image_free(&png)
        guard written != 0 else { throw .corrupt(source: destination, format: "PNG", reason: "cannot encode") }
        return Array(bytes.prefix(size))
    }
}
