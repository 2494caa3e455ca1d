import Foundation
import Imaging
import Inference
import KioskCore

/// The kiosk's engine on the server, for residents' photos: the same model file and catalogue, so a phone gets
/// the answer a kiosk would give. Inference runs on its own serial queue, never on the cooperative pool; photos
/// queue there one at a time (the engine itself uses `threads` cores).
final class ResidentClassifier: Sendable {
    struct Answer: Sendable, Encodable {
        var label: String
        var category: String
        var confidence: Float
        var item: String
        var guidance: [String]
        var language: String
        /// Whether a kiosk with its default settings would have asked instead of answering (low confidence, a
        /// close second guess, or a catalogue safety rule): the page then offers the alternatives.
        var notSure: Bool
        /// The next guesses, with their bins, for a page that asks.
        var alternatives: [Alternative]

        enum CodingKeys: String, CodingKey {
            case label, category, confidence, item, guidance, language, alternatives
            case notSure = "not_sure"
        }
    }

    struct Alternative: Sendable, Encodable {
        var label: String
        var category: String
        var item: String
        var confidence: Float
    }

    let classifier: ImageClassifier
    let catalogue: Catalogue
    private let queue = DispatchQueue(label: "kiosk-central.classify")

    /// Loads the model (int8, or fp32 where XNNPACK cannot run); the catalogue must map every label.
    /// - Throws: `ClassifierSetupError` naming the file and what is wrong.
    init(modelPath: String, catalogue: Catalogue, cataloguePath: String, threads: Int) throws(ClassifierSetupError) {
        do {
            classifier = try ImageClassifier(modelPath: modelPath, backend: .int8, threads: threads)
        } catch {
            guard BackendFallback.fp32MayRun(after: error),
                  let fp32 = try? ImageClassifier(modelPath: modelPath, backend: .fp32, threads: threads)
            else { throw ClassifierSetupError(reason: error.description) }
            classifier = fp32
        }
        self.catalogue = catalogue
        let unmapped = catalogue.unmappedLabels(classifier.labels)
        if !unmapped.isEmpty {
            throw ClassifierSetupError(reason: "\(cataloguePath): no bin for the model's labels \(unmapped.joined(separator: ", "))")
        }
    }

    /// The shorter side a photo needs to be decoded at for the model's resize.
    var decodeShorterSide: Int { classifier.preprocessing.resizeShorterSide }

    func answer(_ image: RGBImage, language: Language) async throws -> Answer {
        let classification: Classification = try await withCheckedThrowingContinuation { continuation in
            queue.async { [classifier] in
                continuation.resume(with: Result { try classifier.classify(image) })
            }
        }
        let top = classification.top
        // Every label was checked against the catalogue at load.
        guard let guidance = catalogue.guidance(forLabel: top.label, language: language) else {
            throw ClassifierSetupError(reason: "the catalogue has no bin for \(top.label)")
        }
        let alternatives = classification.top(3).dropFirst().compactMap { score -> Alternative? in
            guard let item = catalogue.labels[score.label] else { return nil }
            return Alternative(label: score.label, category: item.category.rawValue, item: item.name[language],
                               confidence: score.probability)
        }
        return Answer(label: top.label, category: guidance.category.id.rawValue, confidence: top.probability,
                      item: guidance.itemName, guidance: guidance.lines, language: language.rawValue,
                      notSure: NotSureThresholds.applies(to: classification) || catalogue.guardStops(classification),
                      alternatives: Array(alternatives))
    }
}

/// Why `kiosk-central serve --model … --catalogue …` cannot classify: one line.
struct ClassifierSetupError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
