import KioskCore

/// A photo sent by someone on the internet (the residents' page): checked before it costs memory, then decoded
/// only as large as the model needs. The body's size, the declared type, the real format and the stated pixel
/// count are each checked against limits first, so a 50 MB body, a text file called image/jpeg or a small PNG
/// that claims 100,000 x 100,000 pixels (a decompression bomb) is refused with one line.
public enum PhotoUpload {
    /// Largest body accepted: a phone's full-size JPEG is 2 to 8 MB.
    public static let maximumBytes = 12 * 1024 * 1024
    /// Largest picture accepted, in pixels (a 48 MP phone camera's photo is 48 million).
    public static let maximumPixels = 50_000_000

    /// Why an upload is refused; `status` is the HTTP status that says so.
    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case tooLarge(String)
        case unsupportedType(String)
        case notAnImage(String)

        public var status: Int {
            switch self {
            case .tooLarge: 413
            case .unsupportedType: 415
            case .notAnImage: 422
            }
        }

        public var description: String {
            switch self {
            case .tooLarge(let m), .unsupportedType(let m), .notAnImage(let m): m
            }
        }
    }

    /// Checks and decodes an uploaded photo. `contentType` is the request's Content-Type (parameters ignored);
    /// nil or `application/octet-stream` lets the bytes decide.
    /// - Parameter minimumShorterSide: a JPEG decodes at the smallest DCT scale that still reaches this.
    public static func decode(_ bytes: [UInt8], contentType: String?, minimumShorterSide: Int?) throws(Rejection) -> RGBImage {
        if bytes.count > maximumBytes {
            throw .tooLarge("the photo is \(bytes.count) bytes; at most \(maximumBytes) are accepted")
        }
        let declared = contentType.map { text in
            String(text.prefix { $0 != ";" }.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()).lowercased()
        }
        let accepted = ImageFormat.allCases.map(\.mediaType)
        if let declared, declared != "application/octet-stream", !accepted.contains(declared) {
            throw .unsupportedType("Content-Type \(declared.prefix(60)) is not accepted; send \(accepted.joined(separator: " or "))")
        }
        let header: (format: ImageFormat, width: Int, height: Int)
        do throws(ImageError) {
            header = try ImageDecoder.header(bytes, source: "the photo")
        } catch .unknownFormat {
            throw .unsupportedType("the photo is not a JPEG or PNG image")
        } catch {
            throw .notAnImage(error.description)
        }
        if let declared, declared != "application/octet-stream", declared != header.format.mediaType {
            throw .unsupportedType("Content-Type says \(declared) but the photo is a \(header.format.rawValue.uppercased())")
        }
        if header.width.multipliedReportingOverflow(by: header.height).partialValue > maximumPixels
            || header.width > ImageLimits.maximumSide || header.height > ImageLimits.maximumSide {
            throw .tooLarge("the photo is \(header.width)x\(header.height) pixels; at most \(maximumPixels / 1_000_000) million are accepted")
        }
        do throws(ImageError) {
            return try ImageDecoder.decode(bytes, source: "the photo", minimumShorterSide: minimumShorterSide)
        } catch {
            throw .notAnImage(error.description)
        }
    }
}
