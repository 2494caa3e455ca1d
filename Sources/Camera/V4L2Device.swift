internal import CV4L2
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An open V4L2 capture device; owns its file descriptor and its mmap'd buffers.
///
/// Not thread-safe: one capture thread uses it. Closing (deinit) stops streaming and unmaps the buffers.
public final class V4L2Device {
    public let path: String
    public let driver: String
    public let card: String
    public let busInfo: String
    private let fd: Int32
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    private var streaming = false
    public private(set) var negotiated: NegotiatedFormat?

    /// Opens and checks the device: it must capture video and support streaming I/O.
    public init(path: String) throws(CameraError) {
        self.path = path
        let fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw CameraError.from(errno: errno, device: path, call: "open") }
        var cap = v4l2_capability()
        if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_QUERYCAP, &cap) != 0 {
            let e = errno
            close(fd)
            throw e == ENOTTY ? .notACaptureDevice(device: path, reason: "not a V4L2 device")
                : CameraError.from(errno: e, device: path, call: "VIDIOC_QUERYCAP")
        }
        let caps = (cap.capabilities & UInt32(V4L2_CAP_DEVICE_CAPS)) != 0 ? cap.device_caps : cap.capabilities
        guard caps & UInt32(V4L2_CAP_VIDEO_CAPTURE) != 0, caps & UInt32(V4L2_CAP_STREAMING) != 0 else {
            close(fd)
            throw .notACaptureDevice(device: path, reason: "no single-planar capture with streaming I/O")
        }
        self.fd = fd
        driver = Self.string(cap.driver)
        card = Self.string(cap.card)
        busInfo = Self.string(cap.bus_info)
    }

    deinit {
        if streaming {
            var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            _ = kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_STREAMOFF, &type)
        }
        unmapBuffers()
        close(fd)
    }

    // MARK: - Formats

    /// Pixel formats the device offers for capture.
    public func formats() -> [(format: PixelFormat, description: String, compressed: Bool)] {
        var result: [(PixelFormat, String, Bool)] = []
        var index: UInt32 = 0
        while true {
            var desc = v4l2_fmtdesc()
            desc.index = index
            desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
            if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_ENUM_FMT, &desc) != 0 { break }
            result.append((PixelFormat(code: desc.pixelformat), Self.string(desc.description),
                           desc.flags & UInt32(V4L2_FMT_FLAG_COMPRESSED) != 0))
            index += 1
        }
        return result
    }

    /// Frame sizes for a format: the discrete list, or the stepwise range's corners.
    public func frameSizes(for format: PixelFormat) -> [FrameSize] {
        var sizes: [FrameSize] = []
        var index: UInt32 = 0
        while true {
            var fs = v4l2_frmsizeenum()
            fs.index = index
            fs.pixel_format = format.code
            if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_ENUM_FRAMESIZES, &fs) != 0 { break }
            if fs.type == V4L2_FRMSIZE_TYPE_DISCRETE.rawValue {
                sizes.append(.discrete(width: Int(fs.discrete.width), height: Int(fs.discrete.height)))
            } else {
                let s = fs.stepwise
                sizes.append(.range(minWidth: Int(s.min_width), minHeight: Int(s.min_height),
                                    maxWidth: Int(s.max_width), maxHeight: Int(s.max_height)))
                break
            }
            index += 1
        }
        return sizes
    }

    /// Discrete frame rates for a format and size, highest first.
    public func frameRates(for format: PixelFormat, width: Int, height: Int) -> [Double] {
        var rates: [Double] = []
        var index: UInt32 = 0
        while true {
            var fi = v4l2_frmivalenum()
            fi.index = index
            fi.pixel_format = format.code
            fi.width = UInt32(width)
            fi.height = UInt32(height)
            if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_ENUM_FRAMEINTERVALS, &fi) != 0 { break }
            if fi.type == V4L2_FRMIVAL_TYPE_DISCRETE.rawValue, fi.discrete.numerator > 0 {
                rates.append(Double(fi.discrete.denominator) / Double(fi.discrete.numerator))
            } else {
                if fi.stepwise.min.numerator > 0 {
                    rates.append(Double(fi.stepwise.min.denominator) / Double(fi.stepwise.min.numerator))
                }
                break
            }
            index += 1
        }
        return rates.sorted(by: >)
    }

    /// Sets format and size (VIDIOC_S_FMT); the driver may adjust the size, so the result says what it gave.
    @discardableResult
    public func setFormat(_ format: PixelFormat, width: Int, height: Int) throws(CameraError) -> NegotiatedFormat {
        var f = v4l2_format()
        f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        f.fmt.pix.pixelformat = format.code
        f.fmt.pix.width = UInt32(width)
        f.fmt.pix.height = UInt32(height)
        f.fmt.pix.field = V4L2_FIELD_NONE.rawValue
        try call(KIOSK_VIDIOC_S_FMT, &f, "VIDIOC_S_FMT")
        let got = NegotiatedFormat(
            format: PixelFormat(code: f.fmt.pix.pixelformat), width: Int(f.fmt.pix.width),
            height: Int(f.fmt.pix.height), bytesPerLine: Int(f.fmt.pix.bytesperline),
            imageSize: Int(f.fmt.pix.sizeimage), framesPerSecond: nil)
        negotiated = got
        return got
    }

    /// Asks for a frame rate (VIDIOC_S_PARM); returns the rate the driver set, or nil when it has no rate control.
    @discardableResult
    public func setFrameRate(_ fps: Int) throws(CameraError) -> Double? {
        var parm = v4l2_streamparm()
        parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        try call(KIOSK_VIDIOC_G_PARM, &parm, "VIDIOC_G_PARM")
        guard parm.parm.capture.capability & UInt32(V4L2_CAP_TIMEPERFRAME) != 0 else { return nil }
        parm.parm.capture.timeperframe = v4l2_fract(numerator: 1, denominator: UInt32(max(1, fps)))
        try call(KIOSK_VIDIOC_S_PARM, &parm, "VIDIOC_S_PARM")
        let t = parm.parm.capture.timeperframe
        let rate = t.numerator > 0 ? Double(t.denominator) / Double(t.numerator) : nil
        negotiated?.framesPerSecond = rate
        return rate
    }

    // MARK: - Controls

    /// Every control the device has (user and camera classes), with its range.
    public func controls() -> [ControlInfo] {
        var result: [ControlInfo] = []
        var id = UInt32(V4L2_CTRL_FLAG_NEXT_CTRL)
        while true {
            var q = v4l2_queryctrl()
            q.id = id
            if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_QUERYCTRL, &q) != 0 { break }
            if q.flags & UInt32(V4L2_CTRL_FLAG_DISABLED) == 0 && q.type != V4L2_CTRL_TYPE_CTRL_CLASS.rawValue {
                result.append(ControlInfo(
                    id: q.id, name: Self.string(q.name), minimum: Int(q.minimum), maximum: Int(q.maximum),
                    step: Int(q.step), defaultValue: Int(q.default_value),
                    isButton: q.type == V4L2_CTRL_TYPE_BUTTON.rawValue))
            }
            id = q.id | UInt32(V4L2_CTRL_FLAG_NEXT_CTRL)
        }
        return result
    }

    public func control(_ id: UInt32) throws(CameraError) -> Int {
        var c = v4l2_control(id: id, value: 0)
        try call(KIOSK_VIDIOC_G_CTRL, &c, "VIDIOC_G_CTRL")
        return Int(c.value)
    }

    public func setControl(_ id: UInt32, to value: Int) throws(CameraError) {
        var c = v4l2_control(id: id, value: Int32(clamping: value))
        try call(KIOSK_VIDIOC_S_CTRL, &c, "VIDIOC_S_CTRL")
    }

    // MARK: - Streaming

    /// Allocates `count` mmap buffers, queues them all and starts the stream.
    public func startStreaming(bufferCount: Int = 4) throws(CameraError) {
        precondition(!streaming, "already streaming")
        var req = v4l2_requestbuffers()
        req.count = UInt32(bufferCount)
        req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        req.memory = V4L2_MEMORY_MMAP.rawValue
        try call(KIOSK_VIDIOC_REQBUFS, &req, "VIDIOC_REQBUFS")
        guard req.count >= 2 else {
            throw .system(device: path, call: "VIDIOC_REQBUFS (got \(req.count) buffers)", errno: ENOMEM)
        }
        do throws(CameraError) {
            for i in 0..<req.count {
                var buf = v4l2_buffer()
                buf.index = i
                buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
                buf.memory = V4L2_MEMORY_MMAP.rawValue
                try call(KIOSK_VIDIOC_QUERYBUF, &buf, "VIDIOC_QUERYBUF")
                guard let base = mmap(nil, Int(buf.length), PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(buf.m.offset)),
                    base != MAP_FAILED
                else { throw CameraError.from(errno: errno, device: path, call: "mmap") }
                buffers.append(UnsafeMutableRawBufferPointer(start: base, count: Int(buf.length)))
            }
            for i in 0..<buffers.count { try queue(index: i) }
            var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
            try call(KIOSK_VIDIOC_STREAMON, &type, "VIDIOC_STREAMON")
            streaming = true
        } catch {
            releaseBuffers()
            throw error
        }
    }

    /// Stops the stream and frees the buffers; the format can be changed afterwards.
    public func stopStreaming() {
        guard streaming else { return }
        var type = Int32(V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue)
        _ = kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_STREAMOFF, &type)
        streaming = false
        releaseBuffers()
    }

    public var isStreaming: Bool { streaming }

    /// Waits up to `timeout` for a frame, takes the newest one ready (older ones go straight back to the driver)
    /// and lends its bytes to `body`; the buffer is queued again when `body` returns.
    public func withNewestFrame<R>(
        timeoutMilliseconds: Int, _ body: (CapturedBuffer) throws(CameraError) -> R
    ) throws(CameraError) -> R {
        precondition(streaming, "not streaming")
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(timeoutMilliseconds))
        if ready < 0 {
            if errno == EINTR { throw .timeout(device: path, milliseconds: timeoutMilliseconds) }
            throw CameraError.from(errno: errno, device: path, call: "poll")
        }
        if ready == 0 { throw .timeout(device: path, milliseconds: timeoutMilliseconds) }
        if p.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && p.revents & Int16(POLLIN) == 0 {
            throw .disconnected(device: path)
        }
        var newest = try dequeue()
        var skipped = 0
        while let newer = try dequeueIfReady() {
            try queue(index: Int(newest.index))
            newest = newer
            skipped += 1
        }
        let index = Int(newest.index)
        let outcome: Result<R, CameraError>
        if newest.flags & UInt32(V4L2_BUF_FLAG_ERROR) != 0 {
            outcome = .failure(.badFrame(device: path, reason: "the driver marked frame \(newest.sequence) as corrupt"))
        } else {
            let used = min(Int(newest.bytesused), buffers[index].count)
            do throws(CameraError) {
                outcome = .success(try body(CapturedBuffer(
                    bytes: UnsafeRawBufferPointer(rebasing: buffers[index][0..<used]), sequence: newest.sequence,
                    skippedBefore: skipped)))
            } catch {
                outcome = .failure(error)
            }
        }
        // A buffer that does not go back is lost to the driver until the stream restarts: the caller hears of it
        // (the capture loop reconnects) instead of streaming on with one buffer fewer.
        try queue(index: index)
        return try outcome.get()
    }

    // MARK: - Helpers

    private func dequeue() throws(CameraError) -> v4l2_buffer {
        var buf = v4l2_buffer()
        buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buf.memory = V4L2_MEMORY_MMAP.rawValue
        try call(KIOSK_VIDIOC_DQBUF, &buf, "VIDIOC_DQBUF")
        return buf
    }

    private func dequeueIfReady() throws(CameraError) -> v4l2_buffer? {
        var buf = v4l2_buffer()
        buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buf.memory = V4L2_MEMORY_MMAP.rawValue
        if kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_DQBUF, &buf) != 0 {
            if errno == EAGAIN { return nil }
            throw CameraError.from(errno: errno, device: path, call: "VIDIOC_DQBUF")
        }
        return buf
    }

    private func queue(index: Int) throws(CameraError) {
        var buf = v4l2_buffer()
        buf.index = UInt32(index)
        buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        buf.memory = V4L2_MEMORY_MMAP.rawValue
        try call(KIOSK_VIDIOC_QBUF, &buf, "VIDIOC_QBUF")
    }

    private func releaseBuffers() {
        unmapBuffers()
        var req = v4l2_requestbuffers()
        req.count = 0
        req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE.rawValue
        req.memory = V4L2_MEMORY_MMAP.rawValue
        _ = kiosk_v4l2_ioctl(fd, KIOSK_VIDIOC_REQBUFS, &req)
    }

    private func unmapBuffers() {
        for b in buffers { munmap(b.baseAddress, b.count) }
        buffers.removeAll()
    }

    private func call<T>(_ request: UInt, _ argument: inout T, _ name: String) throws(CameraError) {
        let result = withUnsafeMutablePointer(to: &argument) { kiosk_v4l2_ioctl(fd, request, UnsafeMutableRawPointer($0)) }
        if result != 0 {
            throw CameraError.from(errno: errno, device: path, call: name)
        }
    }

    private static func string<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

// The capture thread owns the device; it never crosses threads while open.
@available(*, unavailable)
extension V4L2Device: Sendable {}

/// The format the driver agreed to.
public struct NegotiatedFormat: Sendable, Equatable, CustomStringConvertible {
    public var format: PixelFormat
    public var width: Int
    public var height: Int
    public var bytesPerLine: Int
    public var imageSize: Int
    public var framesPerSecond: Double?

    public init(format: PixelFormat, width: Int, height: Int, bytesPerLine: Int = 0, imageSize: Int = 0,
                framesPerSecond: Double? = nil) {
        self.format = format
        self.width = width
        self.height = height
        self.bytesPerLine = bytesPerLine
        self.imageSize = imageSize
        self.framesPerSecond = framesPerSecond
    }

    public var description: String {
        let rate = framesPerSecond.map { " @ \(Int($0.rounded())) fps" } ?? ""
        return "\(format) \(width)x\(height)\(rate)"
    }
}

public enum FrameSize: Sendable, Equatable, CustomStringConvertible {
    case discrete(width: Int, height: Int)
    case range(minWidth: Int, minHeight: Int, maxWidth: Int, maxHeight: Int)

    public var description: String {
        switch self {
        case .discrete(let w, let h): return "\(w)x\(h)"
        case .range(let a, let b, let c, let d): return "\(a)x\(b)-\(c)x\(d)"
        }
    }
}

public struct ControlInfo: Sendable, Equatable {
    public var id: UInt32
    public var name: String
    public var minimum: Int
    public var maximum: Int
    public var step: Int
    public var defaultValue: Int
    public var isButton: Bool
}

/// A dequeued frame's bytes, lent for the duration of a closure.
public struct CapturedBuffer {
    public let bytes: UnsafeRawBufferPointer
    /// The driver's frame counter; gaps mean the driver dropped frames.
    public let sequence: UInt32
    /// Frames that were ready but older than this one, given back unread.
    public let skippedBefore: Int
}
