#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A dedicated OS thread for blocking work (capture, SQLite, HTTP), kept off Swift's cooperative pool.
public final class OSThread: @unchecked Sendable {
    // Written once before the thread starts, then read only by `join` on the starting thread.
    private var thread: pthread_t?

    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    public init(_ body: @escaping @Sendable () -> Void) {
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

    public func join() {
        guard let t = thread else { return }
        pthread_join(t, nil)
        thread = nil
    }
}
