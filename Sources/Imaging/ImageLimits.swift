/// Sizes a picture must fall within: large enough to recognise anything, small enough not to exhaust memory.
public enum ImageLimits {
    /// Smallest accepted side in pixels.
    public static let minimumSide = 16
    /// Largest accepted side in pixels (a 20000 px photo is refused before anything is decoded).
    public static let maximumSide = 16384

    static func check(width: Int, height: Int, source: String) throws(ImageError) {
        if width < minimumSide || height < minimumSide {
            throw .tooSmall(source: source, width: width, height: height, minimum: minimumSide)
        }
        if width > maximumSide || height > maximumSide {
            throw .tooLarge(source: source, width: width, height: height, maximum: maximumSide)
        }
    }
}
