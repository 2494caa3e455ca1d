#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds the pictures in a folder.
public enum ImageFiles {
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// JPEG and PNG files under `path` (searched recursively, hidden entries skipped), sorted by path;
    /// `[path]` when `path` is itself a picture; empty when it does not exist.
    public static func list(_ path: String) -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        if (st.st_mode & S_IFMT) != S_IFDIR { return isPicture(path) ? [path] : [] }
        var found: [String] = []
        walk(path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path, into: &found, depth: 0)
        return found.sorted()
    }

    public static func isPicture(_ path: String) -> Bool { hasExtension(path, in: extensions) }

    /// Whether the file name in `path` ends in one of `extensions` (lower case, without the dot), in any case.
    public static func hasExtension(_ path: String, in extensions: Set<String>) -> Bool {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return false }
        return extensions.contains(path[path.index(after: dot)...].lowercased())
    }

    private static func walk(_ folder: String, into found: inout [String], depth: Int) {
        guard depth < 16, let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            let full = "\(folder)/\(name)"
            var st = stat()
            guard stat(full, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                walk(full, into: &found, depth: depth + 1)
            } else if isPicture(full) {
                found.append(full)
            }
        }
    }
}
