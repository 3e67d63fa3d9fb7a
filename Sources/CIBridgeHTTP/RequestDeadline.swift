import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Deadlines for slow or stalled clients, one event-loop timer per connection:
///
/// - **head**: a request's head must have arrived `timeout` after the
///   connection opened or the previous response was sent. Otherwise the
///   connection is closed — whether the client sent nothing (idle keep-alive)
///   or trickles its headers a byte at a time (slowloris), which the server's
///   idle timeout alone would never catch because every byte resets it;
/// - **body**: the body must have fully arrived `timeout` after the head.
///   Otherwise the answer is 408 and the connection is closed. A request
///   answered before its body ended (413) also closes the connection, instead
///   of reading and discarding a body of any size.
///
/// As a handler in the pipeline rather than a timeout task racing each
/// handler's body read: the racing tasks cost about a third of an accepted
/// callback's CPU (see docs/performance.md).
final class RequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// Counts the 408s and the head timeouts; `nil` when no metrics are kept.
    private let metrics: BridgeMetrics?
    /// When the current wait (for a head, or for the rest of a body) runs out;
    /// `nil` while the server, not the client, has the next move.
    private var deadline: NIODeadline?
    /// The one pending timer. Moving the deadline does not reschedule it: when
    /// it fires early it schedules itself again for what is left, and when
    /// nothing is awaited it just ends. Per request that is two clock reads
    /// instead of two timers scheduled and cancelled (1.3 % of an accepted
    /// callback's CPU, see docs/performance.md).
    private var timer: Scheduled<Void>?
    private var expired = false
    /// Between a request's head and its end.
    private var reading = false
    /// Body bytes dropped after the answer.
    private var dropped = 0

    init(milliseconds: Int, metrics: BridgeMetrics?) {
        self.timeout = .milliseconds(Int64(milliseconds))
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { awaitHead(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        awaitHead(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if expired {
            // Answered already: what is left of the request is dropped, up to 1 MiB
            // while the connection lingers (see lingeringClose), then it is cut.
            if case .body(let buffer) = unwrapInboundIn(data) {
                dropped += buffer.readableBytes
                if dropped > 1 << 20 { context.close(promise: nil) }
            }
            return
        }
        switch unwrapInboundIn(data) {
        case .head:
            reading = true
            arm(context: context)
        case .end:
            reading = false
            deadline = nil
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
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        if reading {
            // Answered before the body ended (413, or a refusal): close rather than
            // drain the rest of a body that may be any size.
            expired = true
            deadline = nil
            timer?.cancel()
            timer = nil
            let closing = context.eventLoop.makePromise(of: Void.self)
            closing.futureResult.whenComplete { _ in self.lingeringClose(context: context) }
            if let promise { closing.futureResult.cascade(to: promise) }
            context.writeAndFlush(data, promise: closing)
            return
        }
        awaitHead(context: context)
        context.write(data, promise: promise)
    }

    /// The next request's head is due within `timeout`.
    private func awaitHead(context: ChannelHandlerContext) {
        guard deadline == nil, !expired else { return }
        arm(context: context)
    }

    /// The client's next step (a head, or the rest of a body) is due within `timeout`.
    private func arm(context: ChannelHandlerContext) {
        let due = NIODeadline.now() + timeout
        deadline = due
        if timer == nil { schedule(at: due, context: context) }
    }

    private func schedule(at due: NIODeadline, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        timer = nil
        guard let deadline, !expired else { return }
        if deadline > .now() {
            schedule(at: deadline, context: context)
        } else if reading {
            expire(context: context)
        } else {
            self.deadline = nil
            metrics?.headTimeouts.increment()
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        expired = true
        let outcome = CallbackOutcome.requestTimeout(milliseconds: Int(timeout.nanoseconds / 1_000_000))
        metrics?.record(outcome)
        let (head, body) = outcome.responseParts(adding: [.connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in self.lingeringClose(context: context) }
    }

    /// Closes our side first and the connection a second later, reading (and
    /// dropping, up to 1 MiB) what the client still sends meanwhile: closing at
    /// once with unread bytes makes the kernel send a reset, and the client may
    /// lose the answer that was on its way.
    private func lingeringClose(context: ChannelHandlerContext) {
        context.close(mode: .output, promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .seconds(1)) { loopBound.value.close(promise: nil) }
    }
}
