import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel with a ``CallbackChannelHandler`` in
/// its pipeline, right after Hummingbird's `HTTPConnectionStateHandler`: the
/// callback route answered in the channel, everything else by the router.
///
/// Not through `HTTP1Channel.Configuration.additionalChannelHandlers`: those
/// go before the connection state handler, which would then never see the
/// callbacks' requests and answers. It would close a busy keep-alive
/// connection as idle, miss its `Connection: close`, and on a graceful
/// shutdown close a connection whose callback is still being appended
/// instead of waiting for its answer.
struct CallbackChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let route: CallbackChannelHandler.Route

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { [route] value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(CallbackChannelHandler(route: route), position: .after(state))
            return value
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension CallbackChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
