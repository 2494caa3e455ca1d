internal import CSDL2
import Imaging
import KioskCore
import Screens

/// Owns SDL's video subsystem, the window and its renderer. Used only on the main thread.
///
/// Fullscreen takes the display's own size (KMS/DRM on the kiosk, no desktop needed); windowed mode is for
/// development. The mouse cursor is hidden in fullscreen; taps arrive as mouse events (SDL turns touches into them).
public final class Display {
    let window: OpaquePointer
    let renderer: OpaquePointer
    public private(set) var width: Int
    public private(set) var height: Int

    /// - Parameter size: the window size when windowed (default 1280x800); ignored in fullscreen.
    public init(title: String, windowed: Bool, size: (width: Int, height: Int)? = nil) throws(TouchscreenError) {
        // The screen must never blank while the kiosk waits for residents.
        SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0")
        SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear")
        guard SDL_Init(SDL_INIT_VIDEO) == 0 else { throw .video("cannot start SDL video: \(Self.sdlError())") }
        var w = size?.width ?? 1280, h = size?.height ?? 800
        var flags = SDL_WINDOW_SHOWN.rawValue
        if !windowed {
            var mode = SDL_DisplayMode()
            if SDL_GetCurrentDisplayMode(0, &mode) == 0 && mode.w > 0 && mode.h > 0 {
                w = Int(mode.w)
                h = Int(mode.h)
            }
            flags |= SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue
        }
        let position = Int32(kiosk_sdl_windowpos_undefined)
        guard let window = SDL_CreateWindow(title, position, position, Int32(w), Int32(h), flags) else {
            let reason = Self.sdlError()
            SDL_Quit()
            throw .video("cannot open a \(w)x\(h) window: \(reason)")
        }
        let accelerated = SDL_RENDERER_ACCELERATED.rawValue | SDL_RENDERER_PRESENTVSYNC.rawValue
        guard let renderer = SDL_CreateRenderer(window, -1, accelerated)
            ?? SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
        else {
            let reason = Self.sdlError()
            SDL_DestroyWindow(window)
            SDL_Quit()
            throw .video("cannot create a renderer: \(reason)")
        }
        self.window = window
        self.renderer = renderer
        var outW: Int32 = 0, outH: Int32 = 0
        SDL_GetRendererOutputSize(renderer, &outW, &outH)
        self.width = outW > 0 ? Int(outW) : w
        self.height = outH > 0 ? Int(outH) : h
        SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_BLEND)
        if !windowed { SDL_ShowCursor(SDL_DISABLE) }
        SDL_DisableScreenSaver()
    }

    deinit {
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
        SDL_Quit()
    }

    /// The renderer's name (e.g. "opengles2", "software") for the log.
    public var rendererName: String {
        var info = SDL_RendererInfo()
        guard SDL_GetRendererInfo(renderer, &info) == 0, let name = info.name else { return "unknown" }
        return String(cString: name)
    }

    /// SDL's video driver ("x11", "wayland", "KMSDRM"; "offscreen" when there is no display to draw on).
    public var videoDriver: String {
        guard let name = SDL_GetCurrentVideoDriver() else { return "unknown" }
        return String(cString: name)
    }

    /// Picks up a changed output size (window resized, display mode changed).
    func refreshSize() {
        var w: Int32 = 0, h: Int32 = 0
        if SDL_GetRendererOutputSize(renderer, &w, &h) == 0, w > 0, h > 0 {
            width = Int(w)
            height = Int(h)
        }
    }

    // MARK: Drawing

    func clear(_ colour: Colour) {
        SDL_SetRenderDrawColor(renderer, colour.red, colour.green, colour.blue, 255)
        SDL_RenderClear(renderer)
    }

    func fill(_ rect: Rect, _ colour: Colour, alpha: UInt8 = 255) {
        SDL_SetRenderDrawColor(renderer, colour.red, colour.green, colour.blue, alpha)
        var r = SDL_Rect(rect)
        SDL_RenderFillRect(renderer, &r)
    }

    /// A frame `thickness` pixels wide just inside `rect`.
    func outline(_ rect: Rect, _ colour: Colour, thickness: Int) {
        fill(Rect(x: rect.x, y: rect.y, width: rect.width, height: thickness), colour)
        fill(Rect(x: rect.x, y: rect.maxY - thickness, width: rect.width, height: thickness), colour)
        fill(Rect(x: rect.x, y: rect.y, width: thickness, height: rect.height), colour)
        fill(Rect(x: rect.maxX - thickness, y: rect.y, width: thickness, height: rect.height), colour)
    }

    func draw(_ texture: Texture, in rect: Rect) {
        var r = SDL_Rect(rect)
        SDL_RenderCopy(renderer, texture.handle, nil, &r)
    }

    /// Draws the texture over the whole rectangle, cropping what does not fit (no distortion).
    func drawFilling(_ texture: Texture, in rect: Rect) {
        let scale = max(Double(rect.width) / Double(texture.width), Double(rect.height) / Double(texture.height))
        let sw = Int(Double(rect.width) / scale), sh = Int(Double(rect.height) / scale)
        var source = SDL_Rect(x: Int32((texture.width - sw) / 2), y: Int32((texture.height - sh) / 2), w: Int32(sw), h: Int32(sh))
        var destination = SDL_Rect(rect)
        SDL_RenderCopy(renderer, texture.handle, &source, &destination)
    }

    func present() { SDL_RenderPresent(renderer) }

    // MARK: Textures

    /// A texture with the picture's pixels (RGB24), reusing `existing` when the size matches.
    func upload(_ image: RGBImage, reusing existing: Texture?) -> Texture? {
        var texture = existing
        if texture == nil || texture!.width != image.width || texture!.height != image.height {
            guard let handle = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_RGB24.rawValue,
                                                 Int32(SDL_TEXTUREACCESS_STREAMING.rawValue),
                                                 Int32(image.width), Int32(image.height))
            else { return nil }
            texture = Texture(handle: handle, width: image.width, height: image.height, display: self)
        }
        image.pixels.withUnsafeBytes { _ = SDL_UpdateTexture(texture!.handle, nil, $0.baseAddress, Int32(image.width * 3)) }
        return texture
    }

    /// A static texture from RGBA pixels (icons), blended over what is below.
    func texture(_ image: RGBAImage) -> Texture? {
        guard let handle = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_ABGR8888.rawValue,
                                             Int32(SDL_TEXTUREACCESS_STATIC.rawValue),
                                             Int32(image.width), Int32(image.height))
        else { return nil }
        image.pixels.withUnsafeBytes { _ = SDL_UpdateTexture(handle, nil, $0.baseAddress, Int32(image.width * 4)) }
        SDL_SetTextureBlendMode(handle, SDL_BLENDMODE_BLEND)
        return Texture(handle: handle, width: image.width, height: image.height, display: self)
    }

    /// A texture from an SDL surface (rendered text); the surface is freed.
    func texture(consuming surface: UnsafeMutablePointer<SDL_Surface>) -> Texture? {
        defer { SDL_FreeSurface(surface) }
        guard let handle = SDL_CreateTextureFromSurface(renderer, surface) else { return nil }
        return Texture(handle: handle, width: Int(surface.pointee.w), height: Int(surface.pointee.h), display: self)
    }

    // MARK: Screenshots

    /// What the renderer has drawn since the last present, as RGB pixels.
    public func readPixels() throws(TouchscreenError) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let status = pixels.withUnsafeMutableBytes {
            SDL_RenderReadPixels(renderer, nil, SDL_PIXELFORMAT_RGB24.rawValue, $0.baseAddress, Int32(width * 3))
        }
        guard status == 0 else { throw .video("cannot read the screen back: \(Self.sdlError())") }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    static func sdlError() -> String {
        guard let message = SDL_GetError() else { return "unknown SDL error" }
        let text = String(cString: message)
        return text.isEmpty ? "unknown SDL error" : text
    }
}

// SDL calls must stay on the thread that created the window.
@available(*, unavailable)
extension Display: Sendable {}

extension SDL_Rect {
    init(_ rect: Rect) {
        self.init(x: Int32(rect.x), y: Int32(rect.y), w: Int32(rect.width), h: Int32(rect.height))
    }
}
