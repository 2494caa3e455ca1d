import ArgumentParser
import Imaging
import Inference
import KioskCore
import Screens
import Sync

import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Classify pictures and print the bin and disposal guidance for each.")

    @OptionGroup var engine: EngineOptions

    @Flag(name: .long, help: "One JSON object per line instead of text; 'asked' says whether the touchscreen, with its default thresholds and the catalogue's safety rules, would ask the resident instead of answering.")
    var json = false

    @Option(name: .long, help: "Language of names and guidance: zh or en.")
    var lang: Language = .en

    @Option(name: .long, help: "Catalogue file (categories, guidance, label mapping). Default: the installed one.")
    var catalogue: String?

    @Flag(name: .long, help: "Store each classification as a scan record in the data folder (to be synced).")
    var record = false

    @Flag(name: .long, help: "With --record: keep a small JPEG thumbnail (96 px) in each record. Off by default: residents' hands and faces are private.")
    var thumbnails = false

    @OptionGroup var data: DataOptions

    @Argument(help: "JPEG or PNG pictures.")
    var images: [String]

    func validate() throws {
        if thumbnails && !record { throw ValidationError("--thumbnails keeps thumbnails in scan records: it needs --record") }
    }

    func run() throws {
        Kiosk.bootstrapLogging(verbose: engine.verbose)
        let loaded = try EngineLoader.load(engine, installed: InstalledModels(dataDirectory: data.directory, backend: engine.backend))
        let catalogue = try CatalogueLoader.load(explicit: self.catalogue)
        let unmapped = catalogue.unmappedLabels(loaded.classifier.labels)
        if !unmapped.isEmpty && !json {
            FileHandleOutput.standardError("kiosk: warning: the catalogue has no bin for labels \(unmapped.joined(separator: ", "))\n")
        }
        let policy = AnswerPolicy(settings: ScreenSettings(), catalogue: catalogue)
        let store = record ? try data.openStore() : nil
        let kiosk = record ? try data.kioskName() : ""
        let modelVersion = String((loaded.classifier.model?.checksum ?? "onnx").prefix(16))
        var failures = 0
        for path in images {
            let image: RGBImage
            do {
                image = try ImageDecoder.decode(file: path, minimumShorterSide: loaded.classifier.preprocessing.resizeShorterSide)
            } catch {
                FileHandleOutput.standardError("kiosk: error: \(error)\n")
                failures += 1
                continue
            }
            let start = ContinuousClock.now
            let result = try loaded.classifier.classify(image)
            let ms = (ContinuousClock.now - start).milliseconds
            if let store {
                guard let category = catalogue.category(forLabel: result.top.label) else {
                    FileHandleOutput.standardError("kiosk: error: \(path): label \(result.top.label) has no bin in the catalogue; not recorded\n")
                    failures += 1
                    continue
                }
                let scan = ScanRecord(
                    kiosk: kiosk, capturedAtMilliseconds: WallClock.nowMilliseconds, label: result.top.label,
                    category: category, confidence: Double(result.top.probability),
                    top: result.top(3).map { .init(label: $0.label, p: Double($0.probability)) },
                    modelVersion: modelVersion, language: lang,
                    thumbnail: thumbnails ? try? Data(JPEGEncoder().encode(Resampler.resizeShorterSide(image, to: 96), quality: 75, destination: path)) : nil)
                do {
                    try store.append(scan)
                } catch {
                    throw fail("\(error); \(path) was not recorded")
                }
            }
            print(json ? jsonLine(path, result, ms, catalogue, policy, modelVersion) : text(path, result, ms, catalogue))
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func text(_ path: String, _ result: Classification, _ ms: Double, _ catalogue: Catalogue) -> String {
        let top = result.top
        let confidence = String(format: "%.1f%%", top.probability * 100)
        guard let guidance = catalogue.guidance(forLabel: top.label, language: lang) else {
            return "\(path): \(top.label) (\(confidence)), no bin in the catalogue for this label"
        }
        var lines = ["\(path): \(guidance.itemName) → \(guidance.category.name[lang]) (\(top.label), \(confidence), \(String(format: "%.1f", ms)) ms)"]
        lines += guidance.lines.map { "  - \($0)" }
        return lines.joined(separator: "\n")
    }

    private func jsonLine(_ path: String, _ result: Classification, _ ms: Double, _ catalogue: Catalogue, _ policy: AnswerPolicy,
                          _ modelVersion: String) -> String {
        // Written by hand so that the keys keep the documented order.
        let topk = result.top(3).map { "{\"label\":\(JSONText.string($0.label)),\"p\":\(JSONText.number(Double($0.probability)))}" }
        let category = catalogue.category(forLabel: result.top.label).map { JSONText.string($0.rawValue) } ?? "null"
        return "{\"image\":\(JSONText.string(path)),\"label\":\(JSONText.string(result.top.label)),\"category\":\(category),"
            + "\"confidence\":\(JSONText.number(Double(result.top.probability))),\"topk\":[\(topk.joined(separator: ","))],"
            + "\"ms\":\(JSONText.number(ms, digits: 3)),\"asked\":\(!policy.answersByItself(result)),"
            + "\"other_bins\":\(JSONText.number(Double(catalogue.probabilityOutsideTopBin(result)))),"
            + "\"model_version\":\(JSONText.string(modelVersion))}"
    }
}

/// JSON scalars for hand-written lines.
enum JSONText {
    static func string(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    static func number(_ value: Double, digits: Int = 6) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "null"
    }
}

extension Language: ExpressibleByArgument {}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
