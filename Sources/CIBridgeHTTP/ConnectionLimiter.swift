import NIOCore
import Synchronization

/// Bounds concurrent connections: each connection's pipeline gets one of
/// these; past the limit, a new connection is closed at once.
final class ConnectionLimiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// The count shared by every connection of one server.
    final class Counter: Sendable {
        let limit: Int
        let open = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        init(limit: Int) { self.limit = limit }
    }

    private let counter: Counter
    private var counted = false

    init(counter: Counter) {
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let now = counter.open.add(1, ordering: .relaxed).newValue
        counted = true
        if now > counter.limit {
            counter.refused.add(1, ordering: .relaxed)
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted {
            counter.open.subtract(1, ordering: .relaxed)
            counted = false
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }
}
