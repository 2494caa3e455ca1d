/// An RGB picture, 8 bits per channel, rows packed without padding.
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "pixel count does not match size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// Something that recognises the item in a picture.
public protocol Classifier: Sendable {
    /// The labels this classifier can answer, in output order.
    var labels: [String] { get }

    /// Classifies one picture.
    /// - Throws: an adapter-specific error when the picture cannot be processed.
    func classify(_ image: RGBImage) throws -> Classification
}
