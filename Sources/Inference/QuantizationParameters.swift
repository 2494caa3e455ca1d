/// Affine int8 quantization of one tensor: real = scale * (q - zeroPoint), q in -128...127.
public struct QuantizationParameters: Sendable, Hashable, Codable {
    public var scale: Float
    public var zeroPoint: Int32

    public init(scale: Float, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// Parameters covering `[lo, hi]` (widened to include 0 so that zero padding is exact).
    public init(min lo: Float, max hi: Float) {
        let lo = Swift.min(lo, 0)
        let hi = Swift.max(hi, 0)
        let scale = Swift.max((hi - lo) / 255, 1e-8)
        let zero = (-128 - lo / scale).rounded()
        self.init(scale: scale, zeroPoint: Int32(Swift.max(-128, Swift.min(127, zero))))
    }

    /// The real value range this tensor can represent.
    public var range: ClosedRange<Float> { scale * Float(-128 - zeroPoint)...scale * Float(127 - zeroPoint) }

    @inline(__always)
    public func quantize(_ x: Float) -> Int8 {
        let q = (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return Int8(Swift.max(-128, Swift.min(127, q)))
    }

    @inline(__always)
    public func dequantize(_ q: Int8) -> Float { scale * Float(Int32(q) - zeroPoint) }
}
