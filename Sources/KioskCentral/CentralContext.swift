import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's basics plus the peer's address (login rate limiting).
struct CentralContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text ("unknown" for a Unix socket).
    var peer: String { remoteAddress?.ipAddress ?? "unknown" }
}
