import KioskCore

/// The picture a field photo keeps: the middle of the frame the model looks at (ImageNet's 224 of 256, the same
/// region at every input size), at `FieldPhoto.side` pixels square, so a later model at a larger size can
/// still learn from it.
public enum FieldPhotoImage {
    public static let quality = 90

    public static func crop(_ image: RGBImage) -> RGBImage {
        let side = FieldPhoto.side
        let resized = Resampler.resizeShorterSide(image, to: side * 256 / 224)
        return Resampler.centerCrop(resized, width: side, height: side)
    }

    public static func jpeg(of image: RGBImage, encoder: JPEGEncoder) throws(ImageError) -> [UInt8] {
        try encoder.encode(crop(image), quality: quality, destination: "field photo")
    }
}
