import Dispatch
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Answers `POST /callbacks` and `POST /callbacks/{token}` in the channel
/// pipeline, without a Swift task per request; every other request goes on to
/// Hummingbird's router.
///
/// Why: Hummingbird's async layer (a task per connection, `NIOAsyncChannel`'s
/// streams, the hops between the event loop and the cooperative pool) costs
/// about as much per request as HTTP/1 itself on a small machine, and a
/// callback pays it on top of its decode and `fdatasync`
/// (docs/performance.md). Here the body is collected on the event loop, the
/// decode runs on a dispatch queue (so that the event loop's other sockets
/// never wait for it), the outbox's I/O thread says when the records are
/// durable, and the answer is written back on the event loop.
///
/// The route's rules are the router's, from the same types: ``CallbackPolicy``
/// admits, ``CallbackIntake`` decodes and appends, ``CallbackOutcome`` is the
/// answer, ``RequestIDMiddleware/id(for:)`` names the request and
/// ``BridgeMetrics/record(_:bodyBytes:duration:)`` counts it. With spans
/// exported, callbacks take the router's path instead (``buildApplication``).
///
/// HTTP/1 answers must keep the requests' order. A request that arrives while
/// an earlier one is unanswered (pipelined) is held, and the channel stops
/// reading, until that answer has been written, whichever side answers it.
///
/// Sits after Hummingbird's `HTTPConnectionStateHandler` (``CallbackChannel``
/// puts it there), so that connection's keep-alive and idle rules see every
/// request and answer, and after ``RequestDeadline``, which answers 408 and
/// closes after an answer given before the body ended.
final class CallbackChannelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the route needs, shared by every connection's handler.
    struct Route: Sendable {
        let policy: CallbackPolicy
        let intake: CallbackIntake
        let bodyLimit: Int
        let metrics: BridgeMetrics?
        /// The answers' `Server` header, as Hummingbird sets it on the router's.
        let serverName: String
        /// Where bodies are decoded: concurrent, on the process's dispatch threads.
        let decoding = DispatchQueue(label: "cibridge.callbacks", attributes: .concurrent)
    }

    /// Who answers the request in progress.
    private enum Owner {
        case router
        case callback
    }

    /// A callback whose body is arriving.
    private struct Callback {
        let head: HTTPRequest
        let requestID: String
        let client: String?
        let started: ContinuousClock.Instant
        var body: ByteBuffer?
        /// The policy's refusal, answered once the body has ended: answering
        /// before would make ``RequestDeadline`` close the connection.
        var refusal: CallbackOutcome?
        /// Bytes of a refused callback's body, read and dropped.
        var dropped = 0
    }

    private let route: Route
    /// The request in progress, from its head until both its end and its answer's end; `nil` between requests.
    private var current: Owner?
    private var inboundEnded = false
    private var answered = false
    /// The request in progress is read to its end and waits for its answer:
    /// what comes in meanwhile is held, and no more is read.
    private var awaitingAnswer: Bool { current != nil && inboundEnded }
    /// The callback being read; `nil` once its answer is decided.
    private var collecting: Callback?
    /// Parts of requests pipelined behind an unanswered one.
    private var held: [HTTPRequestPart] = []
    /// A read asked for while requests were held.
    private var readPending = false
    /// Set when the channel is gone: an answer that comes back later is only counted.
    private var removed = false

    init(route: Route) {
        self.route = route
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingAnswer {
            held.append(unwrapInboundIn(data))
            return
        }
        _ = receive(unwrapInboundIn(data), context: context)
    }

    /// Takes one part of the request in progress, or the head of the next one.
    /// Returns whether the part went on to the router.
    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch part {
        case .head(let head):
            if head.method == .post, let pathToken = Self.callbackToken(in: head.path) {
                current = .callback
                begin(head, pathToken: pathToken, context: context)
                return false
            }
            current = .router
        case .body(let buffer):
            guard current == .router else {
                if collecting != nil { collect(buffer, context: context) }
                return false
            }
        case .end:
            inboundEnded = true
            guard current == .router else {
                if let callback = collecting {
                    collecting = nil
                    if let refusal = callback.refusal {
                        answer(refusal, requestID: callback.requestID, bodyBytes: 0, started: callback.started, context: context)
                    } else {
                        accept(callback, context: context)
                    }
                } else if answered {
                    finish(context: context)
                }
                return false
            }
        }
        context.fireChannelRead(wrapInboundOut(part))
        if case .end = part, answered { finish(context: context) }
        return true
    }

    /// `nil`: not a callback route. `.some(nil)`: `/callbacks`; `.some(token)`:
    /// `/callbacks/{token}`. Matched as the router does: by path segments,
    /// empty ones skipped, the query ignored, no percent-decoding.
    static func callbackToken(in path: String?) -> String?? {
        guard let path else { return nil }
        let end = path.utf8.firstIndex(of: UInt8(ascii: "?")) ?? path.endIndex
        let segments = path[..<end].split(separator: "/")
        guard segments.first == "callbacks" else { return nil }
        switch segments.count {
        case 1: return .some(nil)
        case 2: return .some(String(segments[1]))
        default: return nil
        }
    }

    private func begin(_ head: HTTPRequest, pathToken: String?, context: ChannelHandlerContext) {
        let requestID = RequestIDMiddleware.id(for: head.headerFields)
        let started = ContinuousClock.now
        let channel = context.channel
        switch route.policy.admit(head, pathToken: pathToken, peer: channel.remoteAddress?.ipAddress) {
        case .refused(let outcome):
            collecting = Callback(head: head, requestID: requestID, client: nil, started: started, refusal: outcome)
        case .admitted(let client):
            collecting = Callback(head: head, requestID: requestID, client: client, started: started)
        }
    }

    private func collect(_ part: ByteBuffer, context: ChannelHandlerContext) {
        guard var callback = collecting else { return }
        if let refusal = callback.refusal {
            // A refused body is dropped up to the body limit, so that the
            // connection is kept; past it, the refusal is answered now and the
            // connection closed, as for a body that is too large.
            callback.dropped += part.readableBytes
            collecting = callback
            if callback.dropped > route.bodyLimit {
                collecting = nil
                answer(refusal, requestID: callback.requestID, bodyBytes: 0, started: callback.started, context: context)
            }
            return
        }
        if (callback.body?.readableBytes ?? 0) + part.readableBytes > route.bodyLimit {
            collecting = nil
            answer(.bodyTooLarge(limit: route.bodyLimit), requestID: callback.requestID, bodyBytes: 0, started: callback.started, context: context)
            return
        }
        collecting = nil  // so that appending to the body does not copy it
        if callback.body == nil {
            callback.body = part
        } else {
            var part = part
            callback.body!.writeBuffer(&part)
        }
        collecting = callback
    }

    /// Decodes and appends on the decode queue; the answer comes back to this event loop.
    private func accept(_ callback: Callback, context: ChannelHandlerContext) {
        let route = route
        let body = callback.body ?? ByteBuffer()
        let head = callback.head
        let checked = callback.client
        let channel = context.channel
        let loop = context.eventLoop
        let handler = NIOLoopBound((self, context), eventLoop: loop)
        route.decoding.async {
            route.intake.with(requestID: callback.requestID).accept(
                body: body, contentType: head.headerFields.value(of: .contentType), headers: { redacted(head.headerFields) },
                client: { checked ?? route.policy.clientAddress(of: head, peer: channel.remoteAddress?.ipAddress) },
                trace: CallbackTrace(headers: head.headerFields)
            ) { outcome in
                loop.execute {
                    let (handler, context) = handler.value
                    handler.answer(
                        outcome, requestID: callback.requestID, bodyBytes: body.readableBytes, started: callback.started,
                        context: context)
                }
            }
        }
    }

    /// Writes a callback's answer, counts it, and goes on with any held requests.
    private func answer(
        _ outcome: CallbackOutcome, requestID: String, bodyBytes: Int, started: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        route.metrics?.record(outcome, bodyBytes: bodyBytes, duration: ContinuousClock.now - started)
        guard !removed else { return }
        // What Hummingbird adds to the router's answers, and the request id.
        let (head, body) = outcome.responseParts(adding: [
            .date: HTTPDate.now, .server: route.serverName, RequestIDMiddleware.header: requestID,
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        answered = true
        if inboundEnded { finish(context: context) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        if current == .router, case .end = unwrapOutboundIn(data) {
            answered = true
            if inboundEnded { finish(context: context) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func read(context: ChannelHandlerContext) {
        if awaitingAnswer {
            readPending = true
        } else {
            context.read()
        }
    }

    /// The request in progress is read and answered: the held ones go on, in order.
    private func finish(context: ChannelHandlerContext) {
        current = nil
        inboundEnded = false
        answered = false
        var forwarded = false
        while !held.isEmpty && !awaitingAnswer {
            if receive(held.removeFirst(), context: context) { forwarded = true }
        }
        // The router's handler passes reads on at the end of a read burst.
        if forwarded { context.fireChannelReadComplete() }
        if readPending && !awaitingAnswer {
            readPending = false
            context.read()
        }
    }
}

/// The request's headers as kept with a quarantined body, tokens masked.
func redacted(_ headers: HTTPFields) -> [(String, String)] {
    headers.map { field in
        let name = field.name.rawName
        let secret = field.name == .authorization || name.lowercased().contains("token")
        return (name, secret ? "***" : field.value)
    }
}
