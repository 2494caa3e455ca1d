internal import CPNG
import KioskCore

/// PNG decoding through libpng's simplified API (no setjmp needed).
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], source: String) throws(ImageError) -> RGBImage {
        // Transparent pixels are composited onto white, like the tray's background.
        let (width, height, pixels) = try read(bytes, source: source, alpha: false)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The width and height its header states, without decoding the pixels.
    static func dimensions(_ bytes: [UInt8], source: String) throws(ImageError) -> (width: Int, height: Int) {
        let result: Result<(Int, Int), ImageError> = bytes.withUnsafeBytes { buffer in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&image) }
            if png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count) == 0 {
                return .failure(.corrupt(source: source, format: "PNG", reason: message(of: image)))
            }
            return .success((Int(image.width), Int(image.height)))
        }
        return try result.get()
    }

    /// Decodes to RGB (`alpha` false, composited onto white) or RGBA: width, height and packed pixels.
    static func read(_ bytes: [UInt8], source: String, alpha: Bool) throws(ImageError) -> (Int, Int, [UInt8]) {
        // libpng reads from the buffer until png_image_finish_read: both calls stay inside one
        // withUnsafeBytes, or an optimised build may free the array in between (one icon of six failed in
        // release builds only).
        let result: Result<(Int, Int, [UInt8]), ImageError> = bytes.withUnsafeBytes { buffer in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&image) }
            if png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count) == 0 {
                return .failure(.corrupt(source: source, format: "PNG", reason: message(of: image)))
            }
            do throws(ImageError) {
                try ImageLimits.check(width: Int(image.width), height: Int(image.height), source: source)
            } catch {
                return .failure(error)
            }
            let channels = alpha ? 4 : 3
            image.format = UInt32(PNG_FORMAT_RGB) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            let width = Int(image.width)
            let height = Int(image.height)
            var pixels = [UInt8](repeating: 0, count: width * height * channels)
            var white = png_color(red: 255, green: 255, blue: 255)
            let finished = pixels.withUnsafeMutableBytes { out in
                withUnsafeMutablePointer(to: &white) { background in
                    png_image_finish_read(&image, alpha ? nil : background, out.baseAddress, Int32(width * channels), nil)
                }
            }
            if finished == 0 { return .failure(.corrupt(source: source, format: "PNG", reason: message(of: image))) }
            return .success((width, height, pixels))
        }
        return try result.get()
    }

    private static func message(of image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in
            let chars = raw.bindMemory(to: CChar.self)
            let end = chars.firstIndex(of: 0) ?? chars.count
            return String(decoding: raw.prefix(end), as: UTF8.self)
        }
    }
}
