import Foundation
import Imaging
import Testing

/// What the residents' page receives from the internet: each hostile upload is refused by its size, type or
/// stated pixel count before any pixel is decoded, with the HTTP status that says why.
struct PhotoUploadTests {
    func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: fixture(name)))) }

    func rejection(_ body: [UInt8], _ type: String?) -> PhotoUpload.Rejection? {
        do {
            _ = try PhotoUpload.decode(body, contentType: type, minimumShorterSide: 256)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ["image/jpeg", "image/JPEG; charset=binary", "application/octet-stream", nil] as [String?])
    func aRealPhotoDecodesAtTheSizeTheModelNeeds(type: String?) throws {
        let image = try PhotoUpload.decode(try bytes("glass1.jpg"), contentType: type, minimumShorterSide: 256)
        #expect(min(image.width, image.height) >= 256 && image.width < 512)
    }

    @Test func aPNGAndAPhonesProgressiveJPEGAreAccepted() throws {
        #expect(try PhotoUpload.decode(try bytes("glass1.png"), contentType: "image/png", minimumShorterSide: nil).width == 512)
        #expect(try PhotoUpload.decode(try bytes("glass1-4x2-progressive.jpg"), contentType: "image/jpeg", minimumShorterSide: nil).width > 0)
    }

    @Test func whatIsNotAPhotoIsRefusedAsAnUnsupportedType() throws {
        let text = Array("<html>hello</html>".utf8)
        #expect(rejection(text, "image/jpeg")?.status == 415)
        #expect(rejection(text, nil)?.description == "the photo is not a JPEG or PNG image")
        #expect(rejection(try bytes("glass1.jpg"), "text/html")?.status == 415)
        #expect(rejection(try bytes("glass1.jpg"), "image/png")?.description == "Content-Type says image/png but the photo is a JPEG")
        #expect(rejection([], "image/jpeg")?.status == 422)
    }

    @Test func aDamagedPhotoIsRefusedAsUnprocessable() throws {
        #expect(rejection(try bytes("truncated.jpg"), "image/jpeg")?.status == 422)
        #expect(rejection(try bytes("one-pixel.png"), "image/png")?.status == 422)
    }

    @Test func tooManyBytesOrPixelsAreRefusedBeforeDecoding() throws {
        #expect(rejection([UInt8](repeating: 0xFF, count: PhotoUpload.maximumBytes + 1), "image/jpeg")
            == .tooLarge("the photo is 12582913 bytes; at most 12582912 are accepted"))
        #expect(rejection(try bytes("claims-100000x100000.png"), "image/png")?.description
            == "the photo is 100000x100000 pixels; at most 50 million are accepted")
        // A real decompression bomb: 62 KB that would decode to 192 MB.
        #expect(rejection(try bytes("bomb-8000x8000.png"), "image/png")?.status == 413)
        #expect(rejection(try bytes("huge-20000x20000.jpg"), "image/jpeg")?.status == 413)
    }

    @Test func theHeaderIsReadWithoutDecoding() throws {
        let header = try ImageDecoder.header(try bytes("glass1.jpg"), source: "glass1.jpg")
        #expect(header.format == .jpeg && header.width == 512 && header.height == 384)
        #expect(try ImageDecoder.header(try bytes("claims-100000x100000.png"), source: "p").width == 100_000)
    }
}
