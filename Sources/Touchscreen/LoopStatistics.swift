/// What the screen loop measured: how long frames took to prepare and show, and how long residents waited from
/// tap to answer. The benchmark reads these; nothing in the loop depends on them.
public struct LoopStatistics: Sendable {
    /// Work per frame (events, upload, drawing, present), excluding the wait for the next frame.
    public private(set) var frameTimes: [Duration] = []
    /// Frame times while a scan was running (the engine busy on its thread).
    public private(set) var frameTimesWhileScanning: [Duration] = []
    /// Frame times while the engine loaded a newly installed model beside the running one.
    public private(set) var frameTimesWhileSwapping: [Duration] = []
    /// From the tap to the first presented frame showing the answer (result, not sure, or empty tray).
    public private(set) var tapToAnswer: [Duration] = []
    /// The classifier's own time for the same scans (zero for an empty tray).
    public private(set) var inference: [Duration] = []
    public private(set) var frames = 0
    /// Scans recorded whose model answer the catalogue could not map to a bin (stored under "other").
    public internal(set) var unmappedAnswers = 0
    /// Quiz questions answered on Ready.
    public internal(set) var quizAnswers = 0
    /// Field photos handed to the record writer (`field_photos` on).
    public internal(set) var fieldPhotos = 0

    static let keep = 20_000

    mutating func frame(_ time: Duration, scanning: Bool, swapping: Bool = false) {
        frames += 1
        Self.append(time, to: &frameTimes)
        if scanning { Self.append(time, to: &frameTimesWhileScanning) }
        if swapping { Self.append(time, to: &frameTimesWhileSwapping) }
    }

    mutating func answer(after latency: Duration, inference time: Duration) {
        Self.append(latency, to: &tapToAnswer)
        Self.append(time, to: &inference)
    }

    public mutating func reset() { self = LoopStatistics() }

    private static func append(_ value: Duration, to list: inout [Duration]) {
        if list.count >= keep { list.removeFirst(list.count - keep + 1) }
        list.append(value)
    }
}
