internal import CFontconfig

/// A font file (and face index, for .ttc collections) that can show Chinese and Latin text.
public struct FontFile: Sendable, Equatable {
    public var path: String
    public var index: Int
}

/// Finds the kiosk's font through fontconfig: a configured family or file, else the first installed CJK family
/// from a preference list, else any font fontconfig says covers Chinese.
public enum FontFinder {
    public static let preferredFamilies = [
        "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
        "Droid Sans Fallback",
    ]

    /// - Parameter configured: a font file path (contains "/") or a family name; nil picks from the preferences.
    public static func find(configured: String?) throws(TouchscreenError) -> FontFile {
        if let configured, configured.contains("/") {
            return FontFile(path: configured, index: 0)
        }
        guard FcInit() != 0 else { throw .font("fontconfig could not be initialised") }
        let families = configured.map { [$0] } ?? preferredFamilies
        for family in families {
            if let found = first(matching: "\(family):lang=zh-cn") ?? first(matching: "\(family)") { return found }
        }
        if configured == nil, let any = first(matching: ":lang=zh-cn:scalable=true") { return any }
        let wanted = configured.map { "family \($0)" } ?? "a font with Chinese characters"
        throw .font("fontconfig found no \(wanted); install fonts-noto-cjk or fonts-wqy-microhei, or set the font option")
    }

    /// The first font fontconfig lists for a pattern such as "WenQuanYi Micro Hei:lang=zh-cn".
    private static func first(matching pattern: String) -> FontFile? {
        guard let parsed = FcNameParse(pattern) else { return nil }
        defer { FcPatternDestroy(parsed) }
        guard let objects = FcObjectSetCreate() else { return nil }
        defer { FcObjectSetDestroy(objects) }
        FcObjectSetAdd(objects, FC_FILE)
        FcObjectSetAdd(objects, FC_INDEX)
        guard let list = FcFontList(nil, parsed, objects) else { return nil }
        defer { FcFontSetDestroy(list) }
        var files: [FontFile] = []
        for i in 0..<Int(list.pointee.nfont) {
            guard let font = list.pointee.fonts[i] else { continue }
            var file: UnsafeMutablePointer<FcChar8>? = nil
            guard FcPatternGetString(font, FC_FILE, 0, &file) == FcResultMatch, let file else { continue }
            var index: Int32 = 0
            _ = FcPatternGetInteger(font, FC_INDEX, 0, &index)
            files.append(FontFile(path: String(cString: file), index: Int(index)))
        }
        // fontconfig's list order is not stable; prefer the first face of the file with the shortest path.
        return files.min { ($0.index, $0.path.count, $0.path) < ($1.index, $1.path.count, $1.path) }
    }
}
