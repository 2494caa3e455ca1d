import Imaging
import KioskCore

/// What a replay plays: the pictures of a folder, or the frames of a recorded MJPEG clip.
enum ReplayReel: Sendable {
    case pictures([String])
    case clip(MappedFile, frames: [Range<Int>])

    /// - Throws: `CameraError.noDevice` for a path with no picture, `.badClip` for a clip that cannot be played.
    init(path: String) throws(CameraError) {
        if MJPEGClip.isClip(path) {
            let file: MappedFile
            do {
                file = try MappedFile(path: path)
            } catch {
                throw .noDevice(device: path)
            }
            self = .clip(file, frames: try MJPEGClip.index(file.bytes, path: path).frames)
            return
        }
        let found = ImageFiles.list(path)
        guard !found.isEmpty else { throw .noDevice(device: path) }
        self = .pictures(found)
    }

    var count: Int {
        switch self {
        case .pictures(let paths): paths.count
        case .clip(_, let frames): frames.count
        }
    }

    var description: String {
        switch self {
        case .pictures(let paths): "replay of \(paths.count) pictures"
        case .clip(_, let frames): "replay of a clip of \(frames.count) frames"
        }
    }

    /// Item `index` as RGB, decoded at the smallest scale that keeps `side` (nil: full size).
    func decode(_ index: Int, side: Int?, jpeg: JPEGDecoder) throws(ImageError) -> RGBImage {
        switch self {
        case .pictures(let paths):
            return try ImageDecoder.decode(file: paths[index], minimumShorterSide: side)
        case .clip(let file, let frames):
            let range = frames[index]
            return try jpeg.decode(UnsafeRawBufferPointer(rebasing: file.bytes[range]),
                                   source: "\(file.path) frame \(index + 1)", minimumShorterSide: side)
        }
    }
}
