import ArgumentParser
import Inference
import KioskCore

import Foundation

/// Loads the classifier the engine options describe, turning every failure into one error line.
enum EngineLoader {
    struct Loaded {
        var classifier: ImageClassifier
        var path: String
        var loadTime: Duration
    }

    /// - Parameter installed: the kiosk's installed models, used when no `--model` is given: the active one (back
    ///   to the previous by itself when it does not load), else the bundled model.
    static func load(_ options: EngineOptions, installed: InstalledModels? = nil) throws -> Loaded {
        var labels: [String]? = nil
        if let labelsPath = options.labels {
            labels = try readLabels(labelsPath)
        }
        func bundledPath() throws -> String {
            switch ResourceLocator.model(explicit: options.model) {
            case .success(let found): return found
            case .failure(let missing): throw fail(missing.description, code: 2)
            }
        }
        func open(_ path: String) throws -> Loaded {
            let start = ContinuousClock.now
            let classifier = try ImageClassifier(
                modelPath: path, backend: options.backend,
                threads: options.threads ?? ImageClassifier.defaultThreads, labels: labels)
            return Loaded(classifier: classifier, path: path, loadTime: ContinuousClock.now - start)
        }
        do {
            if let installed, options.model == nil {
                return try installed.loadActive { path in try open(path ?? bundledPath()) }
            }
            return try open(try bundledPath())
        } catch let error as InferenceError {
            throw fail(error.description)
        }
    }

    /// One label per line; blank lines and surrounding spaces ignored.
    static func readLabels(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw fail("\(path): cannot read the labels file")
        }
        let labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if labels.isEmpty { throw fail("\(path): the labels file lists no labels") }
        if Set(labels).count != labels.count { throw fail("\(path): the labels file repeats a label") }
        return labels
    }
}

enum CatalogueLoader {
    static func load(explicit: String?) throws -> Catalogue { try loadWithPath(explicit: explicit).catalogue }

    /// The catalogue and the file it came from (for messages about it).
    static func loadWithPath(explicit: String?) throws -> (catalogue: Catalogue, path: String) {
        guard let path = explicit ?? ResourceLocator.firstExisting(ResourceLocator.catalogueCandidates) else {
            throw fail("no catalogue found (looked in \(ResourceLocator.catalogueCandidates.joined(separator: ", "))); pass --catalogue FILE")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read the catalogue") }
        do {
            return (try Catalogue(json: Array(data), source: path), path)
        } catch {
            throw fail(error.description)
        }
    }
}
