internal import CPNG
import KioskCore

/// An RGBA picture (icons with transparent corners), 8 bits per channel, rows packed.
public struct RGBAImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// PNG with alpha (the screen's icons) and PNG writing (screenshots), through libpng's simplified API.
public enum PNGCodec {
    /// Decodes a PNG keeping its alpha channel.
    public static func decodeRGBA(file path: String) throws(ImageError) -> RGBAImage {
        let (width, height, pixels) = try PNGDecoder.read(try FileBytes.read(path), source: path, alpha: true)
        return RGBAImage(width: width, height: height, pixels: pixels)
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
