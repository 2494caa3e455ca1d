/// One guess of the model: a label and its probability.
public struct LabelScore: Sendable, Hashable, Codable {
    public var label: String
    public var probability: Float

    public init(label: String, probability: Float) {
        self.label = label
        self.probability = probability
    }
}

/// What the model said about one image: its guesses, best first.
public struct Classification: Sendable, Hashable {
    /// Every label with its probability, sorted best first.
    public var ranked: [LabelScore]

    public init(ranked: [LabelScore]) {
        precondition(!ranked.isEmpty, "a classification needs at least one label")
        self.ranked = ranked
    }

    /// Builds a classification from logits (softmax, then sort).
    public init(logits: [Float], labels: [String]) {
        precondition(logits.count == labels.count && !logits.isEmpty, "logits and labels differ in count")
        let maxLogit = logits.max()!
        var exps = logits.map { expf($0 - maxLogit) }
        let sum = exps.reduce(0, +)
        for i in exps.indices { exps[i] /= sum }
        let ranked = zip(labels, exps).map { LabelScore(label: $0, probability: $1) }
            .sorted { $0.probability > $1.probability }
        self.init(ranked: ranked)
    }

    public var top: LabelScore { ranked[0] }

    /// The best `k` guesses.
    public func top(_ k: Int) -> ArraySlice<LabelScore> { ranked.prefix(k) }

    /// Probability gap between the best and the second guess (1 when there is only one label).
    public var margin: Float { ranked.count > 1 ? ranked[0].probability - ranked[1].probability : 1 }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
