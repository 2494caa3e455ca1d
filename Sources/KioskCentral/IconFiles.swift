import Foundation
import HTTPTypes
import Hummingbird
import KioskCore
import NIOCore

/// The bins' icons (the kiosk's own PNGs), read once at start and served at `/icons/NAME.png`, so the resident
/// page shows the same pictograms as the kiosk.
struct IconFiles: Sendable {
    private let files: [String: ByteBuffer]

    /// Reads each category's icon from `directory`; the ones that cannot be read are left out, and named in `problems`.
    init(directory: String, catalogue: Catalogue) {
        var files: [String: ByteBuffer] = [:]
        var problems: [String] = []
        for info in catalogue.categories {
            let path = (directory as NSString).appendingPathComponent(info.icon)
            guard let data = FileManager.default.contents(atPath: path), data.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
                problems.append("\(info.id.rawValue): \(path) is missing or not a PNG")
                continue
            }
            files[info.icon] = ByteBuffer(bytes: data)
        }
        self.files = files
        self.problems = problems
    }

    let problems: [String]

    /// The icon's URL for a bin, nil when it was not loaded.
    func url(for info: CategoryInfo) -> String? { files[info.icon] == nil ? nil : "/icons/\(info.icon)" }

    func add(to router: Router<CentralContext>) {
        router.get("icons/:name") { _, context -> Response in
            guard let name = context.parameters.get("name"), let body = files[name] else {
                return ClassifyAPI.error(.notFound, "no such icon")
            }
            return Response(status: .ok, headers: [.contentType: "image/png", .cacheControl: "max-age=86400"], body: .init(byteBuffer: body))
        }
    }
}
