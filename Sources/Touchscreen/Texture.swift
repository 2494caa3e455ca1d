internal import CSDL2

/// Owns one SDL texture. It keeps its display (and so the renderer) alive until it is destroyed itself.
final class Texture {
    let handle: OpaquePointer
    let width: Int
    let height: Int
    private let display: Display

    init(handle: OpaquePointer, width: Int, height: Int, display: Display) {
        self.handle = handle
        self.display = display
        self.width = width
        self.height = height
    }

    deinit { SDL_DestroyTexture(handle) }
}
