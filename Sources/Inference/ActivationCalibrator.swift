/// Collects activation statistics during fp32 runs and turns them into int8 ranges.
///
/// Each tensor keeps its exact min/max plus a fixed-size pseudo-random sample of values per picture; the range
/// is then cut at a percentile of the sample, so that a few outliers do not waste the 256 levels.
struct ActivationCalibrator {
    enum Method: Sendable, Equatable, CustomStringConvertible {
        case minMax
        /// Keep `percentile`% of the values inside the range (e.g. 99.999), cut symmetrically at both ends.
        case percentile(Double)

        var description: String {
            switch self {
            case .minMax: "min/max"
            case .percentile(let p): "percentile \(p)"
            }
        }
    }

    static let samplesPerPicture = 16384
    private var minimum: [Float]
    private var maximum: [Float]
    private var samples: [[Float]]
    private var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
    private(set) var pictures = 0

    init(tensorCount: Int) {
        minimum = [Float](repeating: .infinity, count: tensorCount)
        maximum = [Float](repeating: -.infinity, count: tensorCount)
        samples = [[Float]](repeating: [], count: tensorCount)
    }

    mutating func finishPicture() { pictures += 1 }

    mutating func observe(_ tensor: Int, _ values: UnsafeMutableBufferPointer<Float>) {
        var lo = minimum[tensor]
        var hi = maximum[tensor]
        for v in values {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        minimum[tensor] = lo
        maximum[tensor] = hi
        let n = values.count
        if n <= Self.samplesPerPicture {
            samples[tensor].append(contentsOf: values)
        } else {
            for _ in 0..<Self.samplesPerPicture {
                // xorshift64*: cheap, seeded, so calibration is repeatable.
                rng ^= rng >> 12
                rng ^= rng << 25
                rng ^= rng >> 27
                samples[tensor].append(values[Int((rng &* 2_685_821_657_736_338_717) % UInt64(n))])
            }
        }
    }

    func parameters(for tensor: Int, method: Method) -> QuantizationParameters {
        var lo = minimum[tensor]
        var hi = maximum[tensor]
        if case .percentile(let p) = method, !samples[tensor].isEmpty {
            let sorted = samples[tensor].sorted()
            let tail = (100 - p) / 200
            let cut = Int((Double(sorted.count - 1) * tail).rounded())
            lo = max(lo, sorted[cut])
            hi = min(hi, sorted[sorted.count - 1 - cut])
        }
        return QuantizationParameters(min: lo, max: hi)
    }
}
