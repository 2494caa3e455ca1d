import ArgumentParser
import Camera
import Foundation
import Imaging
import KioskCore
import Screens
import Sync

/// `kiosk camera capture --label battery --count 40`: a technician photographs labelled items on the tray; each
/// becomes a field photo (the model's region of the frame), synced for retraining like residents' ones.
struct CameraCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Photograph labelled items on the tray as field photos for retraining (synced with the records).",
        discussion: """
            Start with the tray empty: the first still picture is taken as the empty tray. Then put an item on it, \
            wait for "kept", change or turn the item, and so on: a frame is kept only once the tray is still and \
            shows something other than the empty tray and the photo kept before it, so nothing is kept twice.
            """)

    @OptionGroup var camera: CameraOptions

    @Option(name: .long, help: "What the items are: a label of the catalogue (e.g. battery, glass).")
    var label: String

    @Option(name: .long, help: "How many photos to keep (1-1000).")
    var count: Int

    @Option(name: .long, help: "Give up after this many seconds without reaching --count (the photos kept stay).")
    var timeout = 600.0

    @Option(name: .long, help: "Seconds each picture is held when --device is a folder or clip replayed (tests, demos).")
    var hold = 1.0

    @Option(name: .long, help: "Catalogue the label must be in. Default: the installed one.")
    var catalogue: String?

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count must be between 1 and 1000, not \(count)") }
        guard (1...86_400).contains(timeout) else { throw ValidationError("--timeout must be between 1 and 86400 seconds") }
        guard (0.1...60).contains(hold) else { throw ValidationError("--hold must be between 0.1 and 60 seconds") }
    }

    func run() throws {
        Kiosk.bootstrapLogging(verbose: false)
        let catalogue = try CatalogueLoader.load(explicit: self.catalogue)
        guard catalogue.labels[label] != nil else {
            throw fail("--label \(label) is not a label of the catalogue (\(catalogue.labels.keys.sorted().joined(separator: ", ")))")
        }
        let store = try data.openStore()
        let kiosk = try data.kioskName()
        let limit = try data.configuration().fieldPhotosMaximum ?? RecordStore.fieldPhotoLimit
        var settings = try camera.settings()
        settings.frameShorterSide = nil
        let source: any FrameSource
        if ReplayFrameSource.canPlay(settings.device) {
            do {
                source = try ReplayFrameSource(path: settings.device, frameShorterSide: nil, holdEach: .seconds(hold))
            } catch {
                throw fail(error.description)
            }
        } else {
            source = V4L2Camera(settings: settings)
        }
        source.start()
        defer { source.stop() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        var selector = CaptureSelector()
        let encoder = JPEGEncoder()
        var kept = 0
        var last: UInt64?
        print("capturing \(count) photos of \(label); start with the tray empty")
        while kept < count, clock.now < deadline {
            guard let frame = source.nextFrame(after: last, timeout: .milliseconds(500)) else { continue }
            last = frame.sequence
            let knewTray = selector.knowsEmptyTray
            let keep = selector.observe(frame.image, at: frame.capturedAt)
            if !knewTray && selector.knowsEmptyTray { print("empty tray seen; put the first item on it") }
            guard keep else { continue }
            let jpeg = try FieldPhotoImage.jpeg(of: frame.image, encoder: encoder)
            let photo = FieldPhoto(kiosk: kiosk, takenAtMilliseconds: WallClock.nowMilliseconds, label: label,
                                   source: .technician, jpeg: Data(jpeg))
            guard try store.append(photo, limit: limit) else {
                throw fail("\(limit) field photos already wait for the server (field_photos_max): sync first; \(kept) kept")
            }
            kept += 1
            print("kept \(kept) of \(count)")
        }
        guard kept == count else {
            throw fail("only \(kept) of \(count) photos in \(Int(timeout)) s (\(source.status.description)); the \(kept) kept stay")
        }
        print("\(kept) photos of \(label) kept in \(store.path); they are synced with the records")
    }
}
