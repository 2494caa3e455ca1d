// Runs inside a QEMU guest whose kernel has the vivid virtual camera loaded (scripts/vm/camera-check):
// real V4L2 ioctls against /dev/video0 (capture) and /dev/video1 (vivid's output node), reported as TAP lines.
import Camera
import KioskCore
import Logging

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var number = 0
nonisolated(unsafe) var failures = 0

/// One check: nil from the body means it passed; a string says what was wrong.
func check(_ name: String, _ body: () throws -> String?) {
    number += 1
    do {
        if let problem = try body() {
            failures += 1
            print("not ok \(number) - \(name): \(problem)")
        } else {
            print("ok \(number) - \(name)")
        }
    } catch {
        failures += 1
        print("not ok \(number) - \(name): threw \(error)")
    }
}

func expectError(_ expected: (CameraError) -> Bool, _ body: () throws -> Void) -> String? {
    do {
        try body()
        return "no error"
    } catch let error as CameraError {
        return expected(error) ? nil : "wrong error: \(error)"
    } catch {
        return "not a CameraError: \(error)"
    }
}

/// vivid's controls by name (their ids differ between kernel versions).
func controlID(_ device: V4L2Device, _ name: String) -> UInt32? {
    device.controls().first { $0.name == name }?.id
}

/// vivid's default pattern is 75% colour bars: white, yellow, cyan, green, magenta, red, blue, black.
/// Samples the middle of each bar below the on-screen text and compares which channels are lit.
func colourBarsProblem(_ image: RGBImage) -> String? {
    let expected: [(Bool, Bool, Bool)] = [
        (true, true, true), (true, true, false), (false, true, true), (false, true, false),
        (true, false, true), (true, false, false), (false, false, true), (false, false, false),
    ]
    let y = image.height * 3 / 4
    for (bar, lit) in expected.enumerated() {
        let x = (2 * bar + 1) * image.width / 16
        let i = (y * image.width + x) * 3
        let rgb = (Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]))
        for (value, on) in [(rgb.0, lit.0), (rgb.1, lit.1), (rgb.2, lit.2)] {
            if on ? !(150...230).contains(value) : value > 60 {
                return "bar \(bar) at (\(x),\(y)) is \(rgb), expected channels lit \(lit) at about 191"
            }
        }
    }
    return nil
}

func grab(_ device: V4L2Device, _ format: NegotiatedFormat, side: Int?) throws(CameraError) -> (RGBImage, CapturedInfo) {
    let converter = FrameConverter()
    return try device.withNewestFrame(timeoutMilliseconds: 3000) { (buffer) throws(CameraError) in
        (try converter.rgb(from: buffer.bytes, format: format, minimumShorterSide: side, device: device.path),
         CapturedInfo(sequence: buffer.sequence, bytes: buffer.bytes.count, skipped: buffer.skippedBefore))
    }
}

struct CapturedInfo {
    var sequence: UInt32
    var bytes: Int
    var skipped: Int
}

func sleepMilliseconds(_ ms: Int) { usleep(UInt32(ms * 1000)) }

let path = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/dev/video0"
let outputNode = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "/dev/video1"

check("opening a missing device is noDevice") {
    expectError({ $0 == .noDevice(device: "/dev/video42") }) { _ = try V4L2Device(path: "/dev/video42") }
}
check("opening vivid's output node is notACaptureDevice") {
    expectError({ if case .notACaptureDevice = $0 { return true } else { return false } }) {
        _ = try V4L2Device(path: outputNode)
    }
}

/// Checks on the device itself; the handle is closed when this returns (vivid reconnects after a Disconnect only
/// when every handle is closed).
func deviceChecks() throws {
    let device = try V4L2Device(path: path)
    print("# \(device.driver): \(device.card) (\(device.busInfo))")
    if let osd = controlID(device, "OSD Text Mode") { try? device.setControl(osd, to: 2) }  // no text over the bars

    check("QUERYCAP names the vivid driver") { device.driver == "vivid" ? nil : "driver is \(device.driver)" }
    check("ENUM_FMT lists YUYV and RGB24, no MJPEG") {
        let formats = device.formats().map(\.format)
        return formats.contains(.yuyv) && formats.contains(.rgb24) && !formats.contains(.mjpeg) ? nil : "formats \(formats)"
    }
    check("ENUM_FRAMESIZES lists 640x480 and 1280x720 for YUYV") {
        let sizes = device.frameSizes(for: .yuyv)
        return sizes.contains(.discrete(width: 640, height: 480)) && sizes.contains(.discrete(width: 1280, height: 720))
            ? nil : "sizes \(sizes)"
    }
    check("ENUM_FRAMEINTERVALS gives rates for YUYV 640x480") {
        let rates = device.frameRates(for: .yuyv, width: 640, height: 480)
        print("# YUYV 640x480 rates \(rates)")
        return rates.isEmpty ? "no rates" : nil
    }

    var format = NegotiatedFormat(format: .yuyv, width: 0, height: 0, bytesPerLine: 0, imageSize: 0)
    check("negotiation falls back from MJPEG 1280x720 to YUYV 640x480 and sets a rate") {
        format = try CameraSetup.negotiate(device, modes: CaptureMode.preferred)
        print("# negotiated \(format)")
        return format.format == .yuyv && format.width == 640 && format.height == 480 && format.framesPerSecond != nil
            ? nil : "got \(format)"
    }
    check("negotiation with no offered format names what the device has") {
        expectError({ if case .unsupportedFormat(_, let r) = $0 { return r.contains("YUYV") } else { return false } }) {
            _ = try CameraSetup.negotiate(device, modes: [CaptureMode(format: .mjpeg, width: 1280, height: 720, framesPerSecond: 30)])
        }
    }
    // The failed negotiation above did not change the format; set it again to be sure.
    format = (try? CameraSetup.negotiate(device, modes: CaptureMode.preferred)) ?? format

    check("S_CTRL/G_CTRL round-trip (brightness)") {
        let id = UInt32(0x0098_0900)
        try device.setControl(id, to: 200)
        let value = try device.control(id)
        try device.setControl(id, to: 128)
        return value == 200 ? nil : "read back \(value)"
    }
    check("camera settings apply what exists and report what does not") {
        let lines = CameraSetup.applyControls(device, settings: CameraSettings(exposure: .manual(100), focus: .fixed(40)),
                                              logger: Logger(label: "check"))
        return lines.contains("focus: not supported by this camera") ? nil : "report \(lines)"
    }

    check("stream: REQBUFS, mmap, QBUF, STREAMON, 10 frames in order") {
        try device.startStreaming(bufferCount: 4)
        var last: UInt32?
        for _ in 0..<10 {
            let (_, info) = try grab(device, format, side: nil)
            if let l = last, info.sequence <= l { return "sequence \(info.sequence) after \(l)" }
            if info.bytes < 640 * 480 * 2 { return "frame has \(info.bytes) bytes" }
            last = info.sequence
        }
        return nil
    }
    check("YUYV frame converts to vivid's colour bars at full size") {
        let (image, _) = try grab(device, format, side: nil)
        if image.width != 640 || image.height != 480 { return "size \(image.width)x\(image.height)" }
        return colourBarsProblem(image)
    }
    check("YUYV frame converts at half size when the caller needs less") {
        let (image, _) = try grab(device, format, side: 200)
        if image.width != 320 || image.height != 240 { return "size \(image.width)x\(image.height)" }
        return colourBarsProblem(image)
    }
    check("the newest frame wins: older ready frames are given back unread") {
        sleepMilliseconds(400)
        let (_, info) = try grab(device, format, side: 200)
        return info.skipped >= 1 ? nil : "skipped \(info.skipped)"
    }
    check("S_FMT while streaming is busy") {
        expectError({ if case .busy = $0 { return true } else { return false } }) {
            try device.setFormat(.rgb24, width: 320, height: 180)
        }
    }
    check("a second opener cannot take the buffers while streaming (busy)") {
        let other = try V4L2Device(path: path)
        return expectError({ if case .busy = $0 { return true } else { return false } }) {
            try other.startStreaming(bufferCount: 2)
        }
    }
    check("a frame the driver marks as corrupt is a badFrame; the next one is fine") {
        guard let inject = controlID(device, "Inject V4L2_BUF_FLAG_ERROR") else { return "no error-injection control" }
        try device.setControl(inject, to: 0)
        var sawBad = false
        for _ in 0..<6 {
            do {
                _ = try grab(device, format, side: 200)
                if sawBad { return nil }
            } catch {
                guard case CameraError.badFrame = error else { throw error }
                sawBad = true
            }
        }
        return sawBad ? "no good frame after the corrupt one" : "the corrupt frame was not reported"
    }
    check("STREAMOFF, then a new format (RGB24 1280x720) streams with the right contents") {
        device.stopStreaming()
        format = try device.setFormat(.rgb24, width: 1280, height: 720)
        if format.format != .rgb24 || format.width != 1280 || format.height != 720 { return "got \(format)" }
        try device.startStreaming(bufferCount: 3)
        let (image, _) = try grab(device, format, side: nil)
        device.stopStreaming()
        if image.width != 1280 || image.height != 720 { return "size \(image.width)x\(image.height)" }
        return colourBarsProblem(image)
    }
    check("an injected REQBUFS error fails startStreaming with a typed error; the device still works after") {
        guard let inject = controlID(device, "Inject VIDIOC_REQBUFS Error") else { return "no error-injection control" }
        try device.setControl(inject, to: 0)
        do {
            try device.startStreaming(bufferCount: 3)
            device.stopStreaming()
            return "startStreaming succeeded"
        } catch {
            print("# injected REQBUFS error: \(error)")
        }
        try device.startStreaming(bufferCount: 3)
        _ = try grab(device, format, side: 200)
        device.stopStreaming()
        return nil
    }
}
try deviceChecks()

// The capture loop: streaming, then the USB cable "pulled" (vivid's Disconnect), a fatal stream error and a
// stream that stops delivering frames; each time it must recover by itself.
let camera = V4L2Camera(settings: CameraSettings(device: path, stallTimeout: .seconds(1),
                                                 reconnectInitial: .milliseconds(100), reconnectMaximum: .milliseconds(500)))
func waitFor(_ what: String, seconds: Double, _ condition: () -> Bool) -> String? {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return nil }
        sleepMilliseconds(20)
    }
    return "\(what) not seen within \(seconds) s (status: \(camera.status.description))"
}
func pressButton(_ name: String) throws -> String? {
    // A separate handle, closed at once: vivid reconnects only when every handle is closed.
    let controller = try V4L2Device(path: path)
    guard let id = controlID(controller, name) else { return "no control '\(name)'" }
    try controller.setControl(id, to: 0)
    return nil
}
var lastSequence: UInt64 = 0
check("the capture loop streams and delivers RGB frames") {
    camera.start()
    if let p = waitFor("streaming", seconds: 10, { camera.status.isStreaming }) { return p }
    guard let frame = camera.nextFrame(after: nil, timeout: .seconds(5)) else { return "no frame" }
    lastSequence = frame.sequence
    sleepMilliseconds(1000)
    let s = camera.statistics
    print("# loop: \(camera.status.description), frame \(frame.image.width)x\(frame.image.height), "
          + "\(String(s.framesPerSecond)) fps, \(s.delivered) frames, conversion \(s.meanConversion)")
    return colourBarsProblem(frame.image)
}
check("unplugged (vivid Disconnect): the loop reports it and resumes by itself") {
    let before = camera.statistics.reconnects
    if let p = try pressButton("Disconnect") { return p }
    if let p = waitFor("lost status", seconds: 5, {
        if case .lost = camera.status { return true }
        if case .noDevice = camera.status { return true }
        return camera.statistics.reconnects > before
    }) { return p }
    if let p = waitFor("reconnect", seconds: 10, { camera.statistics.reconnects > before && camera.status.isStreaming }) { return p }
    guard let frame = camera.nextFrame(after: lastSequence, timeout: .seconds(5)) else { return "no frame after reconnect" }
    lastSequence = frame.sequence
    return nil
}
check("a fatal streaming error: the loop reopens the device and resumes") {
    let before = camera.statistics.reconnects
    if let p = try pressButton("Inject Fatal Streaming Error") { return p }
    if let p = waitFor("reconnect", seconds: 10, { camera.statistics.reconnects > before && camera.status.isStreaming }) { return p }
    guard let frame = camera.nextFrame(after: lastSequence, timeout: .seconds(5)) else { return "no frame after reconnect" }
    lastSequence = frame.sequence
    return nil
}
check("a stream that stops delivering frames is detected and recovered") {
    let controller = try V4L2Device(path: path)
    guard let drop = controlID(controller, "Percentage of Dropped Buffers") else { return "no drop control" }
    try controller.setControl(drop, to: 100)
    let lost = waitFor("lost status", seconds: 8, { if case .lost = camera.status { return true } else { return false } })
    try controller.setControl(drop, to: 0)
    if let lost { return lost }
    if let p = waitFor("streaming again", seconds: 10, { camera.status.isStreaming }) { return p }
    guard camera.nextFrame(after: lastSequence, timeout: .seconds(5)) != nil else { return "no frame after recovery" }
    return nil
}
check("stop() ends the capture thread and releases the device") {
    camera.stop()
    if camera.status != .stopped { return "status \(camera.status)" }
    // Released: another opener can stream now.
    let again = try V4L2Device(path: path)
    try again.startStreaming(bufferCount: 2)
    again.stopStreaming()
    let s = camera.statistics
    print("# loop statistics: \(s.delivered) delivered, \(s.dropped) dropped, \(s.corrupt) corrupt, \(s.reconnects) reconnects")
    return nil
}

print("1..\(number)")
exit(failures == 0 ? 0 : 1)
