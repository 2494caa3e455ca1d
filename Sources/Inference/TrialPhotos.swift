import Crypto
import Imaging
import KioskCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The few photos every model is tried on before a kiosk runs it: the central server records a model's answers
/// on them in its manifest, and a kiosk installs a downloaded model only when it answers them the same.
public enum TrialPhotos {
    public struct Judgement: Sendable, Equatable {
        /// The file name alone, so both ends compare by name and content, not by where the folder is.
        public var photo: String
        public var sha256: String
        public var label: String
        public var probability: Double
    }

    /// The model's top answer on each photo in `folder`, in name order; the classifier is made for this call.
    public static func judge(modelPath: String, folder: String, backend: InferenceBackend = .int8,
                             threads: Int = ImageClassifier.defaultThreads) throws(InferenceError) -> [Judgement] {
        let classifier = try ImageClassifier(modelPath: modelPath, backend: backend, threads: threads)
        return try judge(classifier, folder: folder)
    }

    public static func judge(_ classifier: ImageClassifier, folder: String) throws(InferenceError) -> [Judgement] {
        let photos = ImageFiles.list(folder)
        guard !photos.isEmpty else { throw .io(path: folder, reason: "no trial photos (JPEG or PNG) in this folder") }
        var judged: [Judgement] = []
        for path in photos {
            guard let bytes = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot read the trial photo") }
            let image: RGBImage
            do {
                image = try ImageDecoder.decode([UInt8](bytes), source: path,
                                                minimumShorterSide: classifier.preprocessing.resizeShorterSide)
            } catch {
                throw .io(path: path, reason: "the trial photo cannot be decoded: \(error)")
            }
            let top: LabelScore
            do {
                top = try classifier.classify(image).top
            } catch let error as InferenceError {
                throw error
            } catch {
                throw .io(path: path, reason: "\(error)")
            }
            judged.append(Judgement(photo: String(path.split(separator: "/").last ?? Substring(path)), sha256: Hex.encode(SHA256.hash(data: bytes)),
                                    label: top.label, probability: (Double(top.probability) * 10_000).rounded() / 10_000))
        }
        return judged
    }
}
