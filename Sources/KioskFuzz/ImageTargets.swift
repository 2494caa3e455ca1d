import Camera
import Imaging
import KioskCore

/// Photos and clips: JPEG and PNG (the kiosk's camera, residents' phones soon) and recorded MJPEG clips.
enum ImageTargets {
    /// JPEG or PNG through the one decoder the kiosk uses (size limits included). What decodes has the size it
    /// says; a PNG re-encodes and decodes back to the same pixels, a JPEG to the same size.
    static let image = FuzzTarget(name: "image", summary: "JPEG and PNG photos (ImageDecoder, with its size limits)") { bytes in
        let decoded: RGBImage
        do {
            decoded = try ImageDecoder.decode(bytes, source: "fuzz")
        } catch {
            return false
        }
        require(decoded.width > 0 && decoded.height > 0 && decoded.pixels.count == decoded.width * decoded.height * 3,
                "\(decoded.width)x\(decoded.height) with \(decoded.pixels.count) bytes")
        require(min(decoded.width, decoded.height) >= ImageLimits.minimumSide
                && max(decoded.width, decoded.height) <= ImageLimits.maximumSide, "\(decoded.width)x\(decoded.height) is outside the limits")
        do {
            if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
                let again = try ImageDecoder.decode(try PNGCodec.encode(decoded, destination: "fuzz"), source: "fuzz-png")
                require(again.width == decoded.width && again.height == decoded.height && again.pixels == decoded.pixels,
                        "a PNG re-encoded does not decode to the same pixels")
            } else if decoded.width * decoded.height <= 1 << 20 {
                let again = try JPEGDecoder().decode(try JPEGEncoder().encode(decoded, quality: 80, destination: "fuzz"), source: "fuzz-jpeg")
                require(again.width == decoded.width && again.height == decoded.height, "a JPEG re-encoded changes size")
            }
        } catch {
            require(false, "what decoded cannot be encoded and decoded again: \(error)")
        }
        return true
    }

    /// A photo uploaded to the residents' page: the first byte picks the Content-Type sent with the rest. What is
    /// accepted is a decoded picture within the limits of the type declared; what is refused is refused as too
    /// large, the wrong type or not an image, never by a trap or an allocation the limits should have stopped.
    static let upload = FuzzTarget(name: "upload", summary: "residents' photo uploads (PhotoUpload, Content-Type and limits)") { bytes in
        guard let first = bytes.first else { return false }
        let types: [String?] = [nil, "image/jpeg", "image/png", "application/octet-stream", "text/plain", "image/png; q=1"]
        let type = types[Int(first) % types.count]
        let body = Array(bytes.dropFirst())
        do throws(PhotoUpload.Rejection) {
            let image = try PhotoUpload.decode(body, contentType: type, minimumShorterSide: 256)
            require(type != "text/plain", "a text/plain upload was accepted")
            let header = try? ImageDecoder.header(body, source: "fuzz")
            require(header.map { $0.width * $0.height <= PhotoUpload.maximumPixels } ?? false, "accepted past the pixel limit")
            if let type, type.hasPrefix("image/") { require(type.hasPrefix(header!.format.mediaType), "accepted a \(header!.format) as \(type)") }
            require(image.width > 0 && image.height > 0 && image.pixels.count == image.width * image.height * 3
                    && image.width <= header!.width && image.height <= header!.height, "decoded \(image.width)x\(image.height)")
            return true
        } catch {
            require([413, 415, 422].contains(error.status), "status \(error.status)")
            if type == "text/plain" { require(error.status == 415 || error.status == 413, "text/plain refused as \(error.status)") }
            return false
        }
    }

    /// A recorded clip: the frames it finds lie inside the bytes, in order, each a JPEG from SOI to EOI.
    static let mjpeg = FuzzTarget(name: "mjpeg", summary: "MJPEG clips (MJPEGClip.index)") { bytes in
        let index: MJPEGClip.Index
        do {
            index = try bytes.withUnsafeBytes { (raw) throws(CameraError) in try MJPEGClip.index(raw, path: "fuzz.mjpeg") }
        } catch {
            return false
        }
        require(!index.frames.isEmpty, "an index without frames")
        var end = 0
        for frame in index.frames {
            require(frame.lowerBound >= end && frame.upperBound <= bytes.count, "frame \(frame) outside 0..<\(bytes.count) or overlapping")
            require(frame.count >= 4 && bytes[frame.lowerBound] == 0xFF && bytes[frame.lowerBound + 1] == 0xD8,
                    "frame \(frame) does not start with SOI")
            require(bytes[frame.upperBound - 2] == 0xFF && bytes[frame.upperBound - 1] == 0xD9, "frame \(frame) does not end with EOI")
            end = frame.upperBound
        }
        require(index.truncatedBytes == bytes.count - end, "truncated \(index.truncatedBytes), but \(bytes.count - end) bytes follow")
        return true
    }
}
