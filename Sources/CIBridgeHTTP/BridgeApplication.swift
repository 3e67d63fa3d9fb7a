import CIBridgeConfiguration
import CIBridgeOutbox
import CIBridgeSinks
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Tracing

/// Builds the HTTP application: the routes tests and `cibridge serve` share.
///
/// - `POST /callbacks`, `POST /callbacks/{token}`: a Cloud Infinite callback.
///   The token may also come as `?token=`, `X-CIBridge-Token` or `Authorization: Bearer`.
/// - `GET /healthz`: the process answers.
/// - `GET /readyz`: the outbox accepts appends; each sink's backlog.
/// - `GET /metrics`: Prometheus text, when `metrics` are given.
///
/// A callback is answered in the channel by ``CallbackChannelHandler``. With
/// `spans`, or without channels (`app.test(.router)`), the router's route
/// answers it, through ``RequestIDMiddleware`` and ``CallbackMetricsMiddleware``
/// (with `metrics`). Both paths use ``CallbackPolicy`` and ``CallbackIntake``,
/// and make the answer from the ``CallbackOutcome``. ``RequestDeadline`` and
/// ``ConnectionLimiter`` guard each connection. With `tls`, every connection
/// starts with a TLS handshake using the store's current context
/// (``ReloadingTLSChannel``); without, the listener speaks plain HTTP.
public func buildApplication(
    configuration: BridgeConfiguration, outbox: Outbox, quarantine: Quarantine, logger: Logger,
    metrics: BridgeMetrics? = nil, tls: TLSContextStore? = nil, spans: Bool = false,
    endpoints: @escaping @Sendable () -> [String: String] = { [:] },
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let http = configuration.http
    let policy = CallbackPolicy(http: http)
    let plainIntake = CallbackIntake(http: http, outbox: outbox, quarantine: quarantine, logger: logger, metrics: metrics)
    let intake = spans ? plainIntake.withSpans() : plainIntake
    let router = Router(context: BridgeRequestContext.self)
    if let metrics {
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.scrape())))
        }
    }
    // The request id first, so that every callback answer carries it; then the
    // metrics, which read the outcome the route leaves in the context.
    let callbacks = router.group("callbacks").add(middleware: RequestIDMiddleware())
    if let metrics { callbacks.add(middleware: CallbackMetricsMiddleware(metrics: metrics)) }
    let handler: @Sendable (Request, BridgeRequestContext) async throws -> Response = { request, context in
        let outcome =
            if spans {
                try await receiveTracedCallback(request, context: context, policy: policy, intake: intake, bodyLimit: http.bodyLimit)
            } else {
                try await receiveCallback(
                    request, context: context, policy: policy, intake: intake, bodyLimit: http.bodyLimit,
                    trace: CallbackTrace(headers: request.headers))
            }
        context.callback?.outcome = outcome
        return outcome.response()
    }
    callbacks.post(use: handler)
    callbacks.post(":token", use: handler)
    router.get("healthz") { _, _ in ResponseJSON.response(status: .ok, ["status": "ok"]) }
    router.get("readyz") { _, _ in readiness(outbox: outbox, endpoints: endpoints()) }
    // Bound concurrent connections, and close connections idle past the read timeout
    // (slow or abandoned clients cannot hold sockets forever).
    let connections = ConnectionLimiter.Counter(limit: http.maxConnections)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [
            ConnectionLimiter(counter: connections),
            RequestDeadline(milliseconds: http.readTimeoutMilliseconds, metrics: metrics),
        ],
        idleTimeout: .milliseconds(Int64(http.readTimeoutMilliseconds)))
    // Callbacks are answered in the channel (CallbackChannelHandler), without a
    // task per request; with spans exported, by the router's route above, whose
    // spans follow the request's task.
    let serverName = "cibridge"
    let route =
        spans
        ? nil
        : CallbackChannelHandler.Route(policy: policy, intake: intake, bodyLimit: http.bodyLimit, metrics: metrics, serverName: serverName)
    let server = HTTPServerBuilder { responder -> any ServerChildChannel in
        let plain = HTTP1Channel(responder: responder, configuration: http1)
        switch (route, tls) {
        case (let route?, let tls?): return ReloadingTLSChannel(base: CallbackChannel(base: plain, route: route), store: tls)
        case (let route?, nil): return CallbackChannel(base: plain, route: route)
        case (nil, let tls?): return ReloadingTLSChannel(base: plain, store: tls)
        case (nil, nil): return plain
        }
    }
    return Application(
        router: router,
        server: server,
        configuration: ApplicationConfiguration(
            address: .hostname(http.listen.host, port: http.listen.port),
            serverName: serverName),
        onServerRunning: onServerRunning,
        logger: logger)
}

/// One callback: admitted by the policy, its body read up to the limit, then
/// handed to the intake. A body that does not arrive in time is answered 408 by
/// ``RequestDeadline``, and this throws when the connection closes.
private func receiveCallback(
    _ request: Request, context: BridgeRequestContext, policy: CallbackPolicy, intake: CallbackIntake, bodyLimit: Int,
    trace: CallbackTrace
) async throws -> CallbackOutcome {
    let checked: String?
    switch policy.admit(request, pathToken: context.parameters.get("token"), peer: context.remoteAddress?.ipAddress) {
    case .refused(let outcome): return outcome
    case .admitted(let client): checked = client
    }
    let body: ByteBuffer
    do {
        body = try await request.body.collect(upTo: bodyLimit)
    } catch let error as HTTPResponseError where error.status == .contentTooLarge {
        return .bodyTooLarge(limit: bodyLimit)
    }
    context.callback?.bodyBytes = body.readableBytes
    return await (context.requestID.map(intake.with(requestID:)) ?? intake).accept(
        body: body, contentType: request.headers.value(of: .contentType), headers: redacted(request.headers),
        client: checked ?? policy.clientAddress(of: request, peer: context.remoteAddress?.ipAddress), trace: trace)
}

/// The same inside a server span: a child of the request's `traceparent` when
/// it has one, with the decode and the outbox append as its children. The
/// records carry this span's context, so consumers continue from it. The span
/// names the route, never the path: the path holds the token.
private func receiveTracedCallback(
    _ request: Request, context: BridgeRequestContext, policy: CallbackPolicy, intake: CallbackIntake, bodyLimit: Int
) async throws -> CallbackOutcome {
    var parent = ServiceContext.topLevel
    InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
    return try await withSpan("POST /callbacks", context: parent, ofKind: .server) { span in
        span.attributes["http.request.method"] = "POST"
        span.attributes["http.route"] = "/callbacks/{token}"
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(span.context, into: &carrier, using: DictionaryInjector())
        let trace = CallbackTrace(injected: carrier) ?? CallbackTrace(headers: request.headers)
        let outcome = try await receiveCallback(
            request, context: context, policy: policy, intake: intake, bodyLimit: bodyLimit, trace: trace)
        span.attributes["http.response.status_code"] = Int(outcome.status.code)
        span.attributes["cibridge.outcome"] = outcome.code
        if case .accepted(let ids) = outcome, !ids.isEmpty { span.attributes["cloudevents.event_id"] = CallbackIntake.ids(ids) }
        if outcome.status.code >= 500 { span.setStatus(SpanStatus(code: .error, message: outcome.message)) }
        return outcome
    }
}

private func readiness(outbox: Outbox, endpoints: [String: String]) -> Response {
    let status = outbox.status()
    // Ready when a typical callback (16 KiB of envelopes) would be accepted now.
    let refusal = outbox.refusal(forAppendOf: 16 << 10)
    let ready = refusal == nil
    let sinks = status.sinks.map { sink -> ResponseJSON in
        var fields: [String: ResponseJSON] = [
            "name": .string(sink.name), "pending": .integer(sink.pending), "deliveredThrough": .integer(Int(sink.watermark)),
            "oldestPendingAgeMs": .integer(Int(sink.oldestPendingAgeMilliseconds ?? 0)), "deadLetters": .integer(sink.deadLetters),
        ]
        // The server the sink writes to now (a Redis primary found through Sentinel).
        if let endpoint = endpoints[sink.name] { fields["endpoint"] = .string(endpoint) }
        return .object(fields)
    }
    return ResponseJSON.response(status: ready ? .ok : .serviceUnavailable, [
        "status": .string(refusal.map { $0.code.rawValue } ?? "ready"), "outboxBytes": .integer(Int(status.bytes)),
        "outboxRecords": .integer(status.records), "sinks": .array(sinks),
    ])
}
