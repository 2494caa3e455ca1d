internal import CPNG
import KioskCore

/// PNG decoding through libpng's simplified API (no setjmp needed).
enum PNGDecoder {
    static func decode(_ bytes: [UInt8], source: String) throws(ImageError) -> RGBImage {
        // libpng reads from the buffer until png_image_finish_read: both calls stay inside one
        // withUnsafeBytes, or an optimised build may free the array in between.
        let result: Result<RGBImage, ImageError> = bytes.withUnsafeBytes { buffer in
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
            image.format = UInt32(PNG_FORMAT_RGB)
            let width = Int(image.width)
            let height = Int(image.height)
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            // Transparent pixels are composited onto white, like the tray's background.
            var background = png_color(red: 255, green: 255, blue: 255)
            let finished = pixels.withUnsafeMutableBytes {
                png_image_finish_read(&image, &background, $0.baseAddress, Int32(width * 3), nil)
            }
            if finished == 0 { return .failure(.corrupt(source: source, format: "PNG", reason: message(of: image))) }
            return .success(RGBImage(width: width, height: height, pixels: pixels))
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
