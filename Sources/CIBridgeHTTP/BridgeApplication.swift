import CIBridgeConfiguration
import CIBridgeOutbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Builds the HTTP application: the routes tests and `cibridge serve` share.
///
/// - `POST /callbacks`, `POST /callbacks/{token}`: a Cloud Infinite callback.
///   The token may also come as `?token=`, `X-CIBridge-Token` or `Authorization: Bearer`.
/// - `GET /healthz`: the process answers.
/// - `GET /readyz`: the outbox accepts appends; each sink's backlog.
public func buildApplication(
    configuration: BridgeConfiguration, outbox: Outbox, quarantine: Quarantine, logger: Logger,
    metrics: BridgeMetrics? = nil, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let intake = CallbackIntake(http: configuration.http, outbox: outbox, quarantine: quarantine, logger: logger)
    let router = Router(context: BridgeRequestContext.self)
    let handler: @Sendable (Request, BridgeRequestContext) async throws -> Response = { request, context in
        let started = ContinuousClock.now
        let response = try await handleCallback(request, context: context, intake: intake, http: configuration.http)
        let elapsed = ContinuousClock.now - started
        metrics?.callback(
            result: response.headers[.init("X-CIBridge-Result")!] ?? "unknown", status: response.status.code,
            bytes: Int(response.headers[.init("X-CIBridge-Bytes")!] ?? "0") ?? 0,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            events: Int(response.headers[.init("X-CIBridge-Events")!] ?? "0") ?? 0)
        return response
    }
    if let metrics {
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.scrape())))
        }
    }
    router.post("callbacks", use: handler)
    router.post("callbacks/:token", use: handler)
    router.get("healthz") { _, _ in jsonResponse(200, ["status": "ok"]) }
    router.get("readyz") { _, _ in readiness(outbox: outbox, configuration: configuration) }
    // Bound concurrent connections, and close connections idle past the read timeout
    // (slow or abandoned clients cannot hold sockets forever).
    let connections = ConnectionLimiter.Counter(limit: configuration.http.maxConnections)
    return Application(
        router: router,
        server: .http1(
            configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [
                    ConnectionLimiter(counter: connections),
                    RequestDeadline(milliseconds: configuration.http.readTimeoutMilliseconds),
                ],
                idleTimeout: .milliseconds(Int64(configuration.http.readTimeoutMilliseconds)))),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.http.listen.host, port: configuration.http.listen.port),
            serverName: "cibridge"),
        onServerRunning: onServerRunning,
        logger: logger)
}

private func handleCallback(
    _ request: Request, context: BridgeRequestContext, intake: CallbackIntake, http: BridgeConfiguration.HTTP
) async throws -> Response {
    // One id per callback, in every log line about it and in the response.
    let requestID = request.headers[.init("X-Request-Id")!].map { String($0.prefix(64)) } ?? RequestID.next()
    var response = try await answerCallback(request, context: context, intake: intake.with(requestID: requestID), http: http)
    response.headers[.init("X-Request-Id")!] = requestID
    return response
}

private func answerCallback(
    _ request: Request, context: BridgeRequestContext, intake: CallbackIntake, http: BridgeConfiguration.HTTP
) async throws -> Response {
    let peer = context.remoteAddress?.ipAddress
    let client = intake.clientAddress(peer: peer, forwardedFor: request.headers[.init("X-Forwarded-For")!])
    guard intake.isAllowed(client: client) else {
        return jsonResponse(403, ["error": "forbidden", "message": "source address \(client ?? "unknown") is not allowed"])
    }
    let presented = context.parameters.get("token") ?? request.uri.queryParameters.get("token")
        ?? request.headers[.init("X-CIBridge-Token")!] ?? bearer(request.headers[.authorization])
    guard intake.isAuthorized(presented) else {
        return jsonResponse(401, ["error": "unauthorized", "message": "missing or wrong token"])
    }
    let contentType = request.headers[.contentType]
    if let contentType, !isReadable(contentType) {
        return jsonResponse(415, ["error": "unsupported_media_type", "message": "content type \(contentType) is neither XML nor JSON"])
    }
    // A body that does not arrive in time is answered 408 by ``RequestDeadline``.
    let body: ByteBuffer
    do {
        body = try await request.body.collect(upTo: http.bodyLimit)
    } catch let error as HTTPResponseError where error.status == .contentTooLarge {
        return jsonResponse(413, ["error": "body_too_large", "message": "body is larger than \(http.bodyLimit) bytes"])
    }
    let outcome = await intake.accept(
        body: Array(buffer: body), contentType: contentType,
        headers: request.headers.map { ($0.name.rawName, $0.name.rawName.lowercased().contains("token") || $0.name == .authorization ? "***" : $0.value) },
        client: client)
    var fields: [String: ResponseJSON] = ["status": .string(outcome.code), "message": .string(outcome.message)]
    if !outcome.ids.isEmpty { fields["ids"] = .array(outcome.ids.map(ResponseJSON.string)) }
    var response = jsonResponse(outcome.status, fields)
    if let retryAfter = outcome.retryAfterSeconds { response.headers[.retryAfter] = String(retryAfter) }
    response.headers[.init("X-CIBridge-Bytes")!] = String(body.readableBytes)
    response.headers[.init("X-CIBridge-Events")!] = String(outcome.ids.count)
    return response
}

private func readiness(outbox: Outbox, configuration: BridgeConfiguration) -> Response {
    let status = outbox.status()
    // Ready when a typical callback (16 KiB of envelopes) would be accepted now.
    let refusal = outbox.refusal(forAppendOf: 16 << 10)
    let ready = refusal == nil
    let sinks = status.sinks.map { sink -> ResponseJSON in
        ["name": .string(sink.name), "pending": .integer(sink.pending), "deliveredThrough": .integer(Int(sink.watermark)),
         "oldestPendingAgeMs": .integer(Int(sink.oldestPendingAgeMilliseconds ?? 0)), "deadLetters": .integer(sink.deadLetters)]
    }
    return jsonResponse(ready ? 200 : 503, [
        "status": .string(refusal.map { $0.code.rawValue } ?? "ready"), "outboxBytes": .integer(Int(status.bytes)),
        "outboxRecords": .integer(status.records), "sinks": .array(sinks),
    ])
}

private func bearer(_ header: String?) -> String? {
    guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
    return String(header.dropFirst(7))
}

/// XML, JSON, or generic text/binary (sniffed): what Tencent and proxies send.
private func isReadable(_ contentType: String) -> Bool {
    // What Tencent sends, without lowercasing and trimming on every request.
    if contentType == "application/xml" || contentType == "application/json" || contentType == "text/xml" { return true }
    let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    return media.hasSuffix("/xml") || media.hasSuffix("+xml") || media.hasSuffix("/json") || media.hasSuffix("+json")
        || media == "text/plain" || media == "application/octet-stream" || media.isEmpty
}

func jsonResponse(_ status: Int, _ fields: [String: ResponseJSON]) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    // The outcome code, for metrics and for clients that read headers.
    headers[.init("X-CIBridge-Result")!] = (fields["status"] ?? fields["error"])?.text ?? "unknown"
    return Response(
        status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ResponseJSON.body(fields)))
}

