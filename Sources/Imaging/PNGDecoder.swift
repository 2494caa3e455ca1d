internal import CPNG
import KioskCore

/// PNG decoding through libpng's simplified API (no setjmp needed).
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], source: String) throws(ImageError) -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        defer { png_image_free(&image) }
        if begun == 0 { throw .corrupt(source: source, format: "PNG", reason: message(of: image)) }
        try ImageLimits.check(width: Int(image.width), height: Int(image.height), source: source)

        image.format = UInt32(PNG_FORMAT_RGB)
        let width = Int(image.width)
        let height = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        // Transparent pixels are composited onto white, like the tray's background.
        var background = png_color(red: 255, green: 255, blue: 255)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, &background, $0.baseAddress, Int32(width * 3), nil)
        }
        if finished == 0 { throw .corrupt(source: source, format: "PNG", reason: message(of: image)) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            let chars = raw.bindMemory(to: CChar.self)
            let end = chars.firstIndex(of: 0) ?? chars.count
            return String(decoding: raw.prefix(end), as: UTF8.self)
        }
    }
}
