#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A dedicated OS thread for blocking capture work (poll, ioctl, decode), kept off Swift's cooperative pool.
final class CaptureThread: @unchecked Sendable {
    // Written once before the thread starts, then read only by `join` on the starting thread.
    private var thread: pthread_t?

    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var t = pthread_t()
        let result = pthread_create(&t, nil, { raw in
            let body = Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue()
            body.run()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
        thread = t
    }

    func join() {
        guard let t = thread else { return }
        pthread_join(t, nil)
        thread = nil
    }
}
