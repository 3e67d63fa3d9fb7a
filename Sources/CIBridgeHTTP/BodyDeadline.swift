import HTTPTypes
import Metrics
import NIOCore
import NIOHTTPTypes

/// Answers 408 and closes the connection when a request's body has not fully
/// arrived `timeout` after its head (a slow or stalled client).
///
/// It runs in each connection's pipeline, as one event-loop timer per request,
/// instead of a timeout task racing each handler's body read: the racing tasks
/// cost about a third of an accepted callback's CPU (see docs/performance.md).
/// Idle connections between requests are closed by the HTTP server's own idle timeout.
final class BodyDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var expired = false

    init(milliseconds: Int) {
        self.timeout = .milliseconds(Int64(milliseconds))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if expired { return }  // the 408 is on its way; what is left of the request is dropped
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = loopBound.value
                handler.expire(context: context)
            }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The handler's own response, if it still comes, must not follow the 408.
        if expired {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func expire(context: ChannelHandlerContext) {
        timer = nil
        expired = true
        Counter(label: "cibridge_callbacks_total", dimensions: [("result", "request_timeout"), ("status", "408")]).increment()
        let body = ResponseJSON.body([
            "error": "request_timeout", "message": .string("body not received within \(timeout.nanoseconds / 1_000_000) ms"),
        ])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(body.readableBytes)
        headers[.connection] = "close"
        headers[.init("X-CIBridge-Result")!] = "request_timeout"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .requestTimeout, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
