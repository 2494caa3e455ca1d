internal import CQRencode
import Imaging

/// A QR code's modules, made by libqrencode (ISO/IEC 18004; error correction level M, which survives a scratched
/// or smudged screen): the points code on the result screen.
public struct QRCode: Sendable, Equatable {
    /// Modules per side (21 for version 1, 4 more per version).
    public let size: Int
    /// Row by row; true is a dark module.
    public let modules: [Bool]

    /// - Throws: `TouchscreenError.qrCode` when libqrencode refuses the text (too long for a QR code, out of memory).
    public init(encoding text: String) throws(TouchscreenError) {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else {
            throw .qrCode("libqrencode could not encode \(text.utf8.count) bytes")
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        // Bit 0 of each byte is the module's colour; the other bits say what the module is for.
        modules = (0..<(width * width)).map { code.pointee.data[$0] & 1 == 1 }
        size = width
    }

    /// Black modules of `scale` pixels on white, with the quiet zone of 4 modules the standard asks for.
    public func image(scale: Int) -> RGBAImage {
        let quiet = 4
        let side = (size + 2 * quiet) * scale
        var pixels = [UInt8](repeating: 255, count: side * side * 4)
        for row in 0..<size {
            for column in 0..<size where modules[row * size + column] {
                for y in 0..<scale {
                    let start = (((quiet + row) * scale + y) * side + (quiet + column) * scale) * 4
                    for x in 0..<scale {
                        let i = start + x * 4
                        pixels[i] = 0
                        pixels[i + 1] = 0
                        pixels[i + 2] = 0
                    }
                }
            }
        }
        return RGBAImage(width: side, height: side, pixels: pixels)
    }

    /// Modules per side including the quiet zone.
    public var sideWithQuietZone: Int { size + 8 }
}
