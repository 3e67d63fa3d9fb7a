import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage, the peer's address (for the
/// allowlist), and what the callback middleware share with the route.
public struct BridgeRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// This callback's id, set by ``RequestIDMiddleware``: the client's `X-Request-Id` or a new one.
    public internal(set) var requestID: String?
    /// Where the route leaves the callback's outcome for ``CallbackMetricsMiddleware``;
    /// `nil` when no metrics are kept. A reference, because the context is a value
    /// passed down the chain: what the route writes into its copy would never
    /// reach the middleware's.
    var callback: CallbackRecord?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
