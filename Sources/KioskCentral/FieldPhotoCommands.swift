import ArgumentParser
import Central
import Foundation
import KioskCore
import SyncWire

/// A day on the command line (YYYY-MM-DD).
extension CivilDay: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// `kiosk-central export-training DIR`: the field photos as a labelled folder tree for `scripts/train-model --extra`.
struct ExportTrainingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-training",
        abstract: "Write the kiosks' field photos as a labelled folder tree with a manifest, for scripts/train-model --extra.",
        discussion: """
            DIR/<label>/<id>.jpg for photos whose label is a model label, DIR/_bin-<bin>/ for those a resident gave \
            only a bin, DIR/_unlabelled/ for unsure scans nobody answered; DIR/manifest.json names each photo's \
            kiosk, time, label and label source (resident, technician, none). Written last: a folder without it is \
            an export that did not finish.
            """)

    @Argument(help: "Folder to write (new or empty).")
    var directory: String

    @Option(name: .long, help: "First day (YYYY-MM-DD, the server's time zone or --time-zone) of photos to export.")
    var from: CivilDay?

    @Option(name: .long, help: "Last day (inclusive) of photos to export.")
    var to: CivilDay?

    @Option(name: .long, help: "Time zone of --from and --to (IANA name). Default: the server's.")
    var timeZone: String?

    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if let from, let to, to < from { throw ValidationError("--to \(to) is before --from \(from)") }
    }

    func run() async throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw fail("\(directory) is a file, not a folder") }
            guard (try? manager.contentsOfDirectory(atPath: directory))?.isEmpty ?? false else {
                throw fail("\(directory) is not empty: export into a new folder")
            }
        }
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw fail("\(directory): cannot create it (\(error.localizedDescription))")
        }
        let store = try database.open(timeZone: try DatabaseOptions.timeZone(timeZone))
        let (from, to, directory) = (self.from, self.to, self.directory)
        let entries = try await withStore(store) { store in
            let start = from.map { store.milliseconds(atStartOf: $0) }
            let end = to.map { store.milliseconds(atStartOf: $0.adding(days: 1)) }
            var entries: [TrainingManifest.Entry] = []
            var after: (Int64, UUID)?
            while true {
                let page = try await store.fieldPhotos(fromMilliseconds: start, toMilliseconds: end, after: after)
                for stored in page {
                    let entry = TrainingManifest.Entry(stored)
                    let folder = (directory as NSString).appendingPathComponent(entry.folder)
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    let path = (directory as NSString).appendingPathComponent(entry.file)
                    guard FileManager.default.createFile(atPath: path, contents: stored.photo.jpeg) else {
                        throw fail("\(path): cannot write it")
                    }
                    entries.append(entry)
                }
                guard let last = page.last, page.count == 200 else { break }
                after = (last.photo.takenAtMilliseconds, last.photo.id)
            }
            return entries
        }
        let manifest = TrainingManifest(exportedAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds),
                                        from: from?.description, to: to?.description, photos: entries)
        let path = (directory as NSString).appendingPathComponent("manifest.json")
        do {
            try AtomicFile.write([UInt8](try WireJSON.encoder().encode(manifest)), to: path)
        } catch {
            throw fail("\(path): cannot write it (\(error))")
        }
        let bySource = Dictionary(grouping: entries, by: \.labelSource).mapValues(\.count)
        let summary = FieldPhoto.Source.allCases.compactMap { s in bySource[s.rawValue].map { "\($0) \(s.rawValue)" } }
        print("exported \(entries.count) field photos to \(directory)\(summary.isEmpty ? "" : " (\(summary.joined(separator: ", ")))")")
    }
}

/// DIR/manifest.json of `export-training`: what scripts/train-model --extra reads.
struct TrainingManifest: Codable {
    struct Entry: Codable {
        /// The photo's path inside the export folder.
        var file: String
        var id: String
        var kiosk: String
        var takenAt: String
        var takenAtMilliseconds: Int64
        var label: String?
        /// resident, technician or none (see `FieldPhoto.Source`).
        var labelSource: String
        var modelLabel: String?
        var modelVersion: String?
        var record: String?

        var folder: String { (file as NSString).deletingLastPathComponent }

        init(_ stored: StoredFieldPhoto) {
            let p = stored.photo
            let folder: String
            switch p.label.map(Correction.init(recordValue:)) {
            case .label(let label)?: folder = label
            case .category(let bin)?: folder = "_bin-\(bin.rawValue)"
            case nil: folder = "_unlabelled"
            }
            id = p.id.uuidString.lowercased()
            file = "\(folder)/\(id).jpg"
            kiosk = p.kiosk
            takenAt = WallClock.iso8601(milliseconds: p.takenAtMilliseconds)
            takenAtMilliseconds = p.takenAtMilliseconds
            label = p.label
            labelSource = p.source.rawValue
            modelLabel = p.modelLabel
            modelVersion = p.modelVersion
            record = p.record?.uuidString.lowercased()
        }

        enum CodingKeys: String, CodingKey {
            case file, id, kiosk, label, record
            case takenAt = "taken_at"
            case takenAtMilliseconds = "taken_at_ms"
            case labelSource = "label_source"
            case modelLabel = "model_label"
            case modelVersion = "model_version"
        }
    }

    var exportedAt: String
    var from: String?
    var to: String?
    var photos: [Entry]

    enum CodingKeys: String, CodingKey {
        case from, to, photos
        case exportedAt = "exported_at"
    }
}

struct FieldPhotosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field-photos", abstract: "The kiosks' field photos held for retraining.",
        subcommands: [FieldPhotosStatusCommand.self, FieldPhotosDeleteCommand.self])
}

struct FieldPhotosStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "How many field photos are held, and since when.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let (count, oldest) = try await withStore(try database.open()) { try await $0.fieldPhotoCount() }
        print("\(count) field photos\(oldest.map { ", the oldest taken \(WallClock.iso8601(milliseconds: $0))" } ?? "")")
    }
}

struct FieldPhotosDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete the field photos taken before a day (local midnight starting it).")

    @Option(name: .long, help: "Delete photos taken before this day (YYYY-MM-DD).")
    var before: CivilDay

    @Option(name: .long, help: "Time zone of --before (IANA name). Default: the server's.")
    var timeZone: String?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let before = self.before
        let deleted = try await withStore(try database.open(timeZone: try DatabaseOptions.timeZone(timeZone))) { store in
            try await store.deleteFieldPhotos(takenBeforeMilliseconds: store.milliseconds(atStartOf: before))
        }
        print("deleted \(deleted) field photos taken before \(before)")
    }
}
