internal import CSDL2
import Screens

/// Draws text with one font file at any pixel size: measuring, wrapping (between words, and between Chinese
/// characters), shrinking to fit, and a bounded cache of rendered lines so a steady screen costs no TTF work.
final class TextPainter {
    enum Alignment { case leading, center }

    private final class Font {
        let handle: OpaquePointer
        init(handle: OpaquePointer) { self.handle = handle }
        deinit { TTF_CloseFont(handle) }
    }

    private struct Key: Hashable {
        var text: String
        var size: Int
        var colour: Colour
    }

    private struct Entry {
        var texture: Texture
        var lastUsed: UInt64
    }

    let file: FontFile
    private let display: Display
    private var fonts: [Int: Font] = [:]
    private var cache: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    static let cacheCapacity = 400

    /// Opens the font once to check that it loads.
    init(file: FontFile, display: Display) throws(TouchscreenError) {
        self.file = file
        self.display = display
        guard TTF_Init() == 0 else { throw .font("cannot start SDL_ttf: \(Display.sdlError())") }
        guard font(size: 24) != nil else {
            throw .font("cannot open \(file.path) (face \(file.index)): \(Display.sdlError())")
        }
    }

    deinit {
        // Fonts must close before SDL_ttf stops.
        fonts.removeAll()
        TTF_Quit()
    }

    var cachedLines: Int { cache.count }
    /// Texts that did not fit their box even at half size (drawn cut short); the rendering tests require none.
    private(set) var overflows: [String] = []

    private func font(size: Int) -> Font? {
        let size = max(6, size)
        if let f = fonts[size] { return f }
        guard let handle = TTF_OpenFontIndex(file.path, Int32(size), Int(file.index)) else { return nil }
        let f = Font(handle: handle)
        fonts[size] = f
        return f
    }

    /// Width and height of one line at a size.
    func measure(_ text: String, size: Int) -> (width: Int, height: Int) {
        guard let font = font(size: size) else { return (0, 0) }
        var w: Int32 = 0, h: Int32 = 0
        if text.isEmpty { return (0, Int(TTF_FontHeight(font.handle))) }
        TTF_SizeUTF8(font.handle, text, &w, &h)
        return (Int(w), Int(h))
    }

    func lineHeight(size: Int) -> Int { font(size: size).map { Int(TTF_FontLineSkip($0.handle)) } ?? size }

    /// Splits text into lines no wider than `width`: breaks after spaces and around Chinese characters.
    func wrap(_ text: String, size: Int, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for segment in Self.segments(text) {
            let candidate = line + segment
            if line.isEmpty || measure(candidate.trimmingTrailingSpaces, size: size).width <= width {
                line = candidate
            } else {
                lines.append(line.trimmingTrailingSpaces)
                line = String(segment.drop { $0 == " " })
            }
        }
        if !line.isEmpty { lines.append(line.trimmingTrailingSpaces) }
        return lines
    }

    /// The largest size from `size` down to half of it at which the text fits in `rect` within `maxLines`.
    func fit(_ text: String, size: Int, in rect: Rect, maxLines: Int) -> (lines: [String], size: Int) {
        var s = size
        while true {
            let lines = wrap(text, size: s, width: rect.width)
            let tall = lines.count * lineHeight(size: s)
            let wide = lines.map { measure($0, size: s).width }.max() ?? 0
            if lines.count <= maxLines && tall <= rect.height && wide <= rect.width { return (lines, s) }
            if s <= size / 2 {
                if overflows.count < 100 { overflows.append(text) }
                return (Array(lines.prefix(maxLines)), s)
            }
            s = max(size / 2, s * 9 / 10)
        }
    }

    /// Draws text fitted into `rect` (wrapped, shrunk if needed), vertically centred; returns the lines' bounds.
    @discardableResult
    func draw(_ text: String, size: Int, colour: Colour, in rect: Rect, maxLines: Int = 1,
              alignment: Alignment = .center, verticallyCentered: Bool = true) -> Rect {
        let (lines, s) = fit(text, size: size, in: rect, maxLines: maxLines)
        let step = lineHeight(size: s)
        let total = lines.count * step
        var y = verticallyCentered ? rect.y + (rect.height - total) / 2 : rect.y
        var bounds: Rect?
        for line in lines {
            if let texture = texture(line, size: s, colour: colour) {
                let x = alignment == .center ? rect.x + (rect.width - texture.width) / 2 : rect.x
                let placed = Rect(x: x, y: y + (step - texture.height) / 2, width: texture.width, height: texture.height)
                display.draw(texture, in: placed)
                bounds = bounds.map { $0.union(placed) } ?? placed
            }
            y += step
        }
        return bounds ?? Rect(x: rect.x, y: rect.y, width: 0, height: 0)
    }

    private func texture(_ text: String, size: Int, colour: Colour) -> Texture? {
        guard !text.isEmpty else { return nil }
        clock += 1
        let key = Key(text: text, size: size, colour: colour)
        if var entry = cache[key] {
            entry.lastUsed = clock
            cache[key] = entry
            return entry.texture
        }
        guard let font = font(size: size),
            let surface = TTF_RenderUTF8_Blended(font.handle, text, SDL_Color(r: colour.red, g: colour.green, b: colour.blue, a: 255)),
            let texture = display.texture(consuming: surface)
        else { return nil }
        if cache.count >= Self.cacheCapacity { evictOldest() }
        cache[key] = Entry(texture: texture, lastUsed: clock)
        return texture
    }

    /// Drops the least recently used quarter, so memory stays flat however many texts were shown.
    private func evictOldest() {
        let keep = cache.sorted { $0.value.lastUsed > $1.value.lastUsed }.prefix(Self.cacheCapacity * 3 / 4)
        cache = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }

    /// Punctuation a Chinese line never starts with (the line-breaking rule of CLREQ): it stays with what precedes it.
    static let noLineStart: Set<Character> = ["、", "。", "，", "．", "！", "？", "；", "：", "）", "」", "』", "】", "〉", "》", "”", "’", "…", "%", "％"]

    /// Words with their trailing spaces, and single Chinese characters (a line may break after any of them), with
    /// closing punctuation kept on the segment before it.
    static func segments(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        for character in text {
            if noLineStart.contains(character) {
                if !current.isEmpty {
                    current.append(character)
                } else if let last = result.popLast() {
                    result.append(last.trimmingTrailingSpaces + String(character))
                } else {
                    result.append(String(character))
                }
            } else if character.isWide {
                if !current.isEmpty { result.append(current); current = "" }
                result.append(String(character))
            } else if character == " " {
                current.append(character)
                result.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}

extension Character {
    /// CJK ideographs, kana, hangul and full-width punctuation: a line may break before or after them.
    var isWide: Bool {
        guard let scalar = unicodeScalars.first?.value else { return false }
        return (0x2E80...0x9FFF).contains(scalar) || (0xAC00...0xD7AF).contains(scalar)
            || (0xF900...0xFAFF).contains(scalar) || (0xFF00...0xFFEF).contains(scalar)
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

extension Rect {
    func union(_ other: Rect) -> Rect {
        let x0 = min(x, other.x), y0 = min(y, other.y)
        return Rect(x: x0, y: y0, width: max(maxX, other.maxX) - x0, height: max(maxY, other.maxY) - y0)
    }
}
