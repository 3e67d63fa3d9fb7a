import CIBridgeCore
import CIBridgeOutbox
import HTTPTypes
import Hummingbird

/// How the edge answered one callback request.
///
/// The only place where an outcome becomes an HTTP status, a stable code and a
/// JSON body: ``CallbackPolicy`` and ``CallbackIntake`` return outcomes, the
/// route, ``RequestDeadline`` and the metrics read their status here, so a
/// status cannot differ between the answer and the `cibridge_callbacks_total`
/// label that counts it.
public enum CallbackOutcome: Sendable, Equatable {
    /// Every event of the body is durable in the outbox; `ids` are their CloudEvents ids.
    case accepted(ids: [String])
    /// Tencent's test request, sent when the callback URL is set; nothing is stored.
    case testPing
    /// The body is not a callback cibridge can read; it was quarantined.
    case undecodable(DecodeError)
    /// The outbox refuses appends for now (full, disk below its margin): retry later.
    case outboxRefused(OutboxError)
    /// The outbox failed to store the events.
    case outboxFailed(String)
    /// No token, or not the configured one.
    case unauthorized
    /// The client's address is outside `http.allow`.
    case forbidden(client: String?)
    /// A `Content-Type` that is neither XML nor JSON.
    case unsupportedMediaType(String)
    /// The body is larger than `http.body_limit` bytes.
    case bodyTooLarge(limit: Int)
    /// The body did not arrive within `http.read_timeout` of the request's head.
    case requestTimeout(milliseconds: Int)

    /// One outcome of every result and status the edge can answer with, so that
    /// `cibridge_callbacks_total` and `cibridge_callbacks_refused_total` are
    /// exported at zero from the start: Prometheus's `increase()` treats a
    /// series' first sample as its start, so an alert on the first 503 or the
    /// first refusal would never fire if the series appeared at 1.
    static var everyKind: [CallbackOutcome] {
        [.accepted(ids: []), .testPing]
            + DecodeError.Code.all.map { .undecodable(DecodeError($0, "")) }
            + [
                .outboxRefused(OutboxError(.full, "")), .outboxRefused(OutboxError(.diskLow, "")), .outboxFailed(""),
                .unauthorized, .forbidden(client: nil), .unsupportedMediaType(""), .bodyTooLarge(limit: 0),
                .requestTimeout(milliseconds: 0),
            ]
    }

    /// Whether the callback may be lost at the source: nothing of it is stored
    /// (neither in the outbox nor, for an unreadable body, in the quarantine).
    /// No Tencent document says that Tencent sends a refused callback again, so
    /// every such answer counts in `cibridge_callbacks_refused_total`.
    public var isRefusal: Bool {
        switch self {
        case .accepted, .testPing, .undecodable: false
        case .outboxRefused, .outboxFailed, .unauthorized, .forbidden, .unsupportedMediaType, .bodyTooLarge, .requestTimeout: true
        }
    }

    /// The stable reason code: the `status` (or `error`) member of the answer and
    /// the `result` label of `cibridge_callbacks_total`.
    public var code: String {
        switch self {
        case .accepted: "accepted"
        case .testPing: "test_ping"
        case .undecodable(let error): error.code.rawValue
        case .outboxRefused(let error): error.code.rawValue
        case .outboxFailed: "outbox_error"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .unsupportedMediaType: "unsupported_media_type"
        case .bodyTooLarge: "body_too_large"
        case .requestTimeout: "request_timeout"
        }
    }

    /// The HTTP status of the answer.
    public var status: HTTPResponse.Status {
        switch self {
        case .accepted, .testPing: .ok
        case .undecodable(let error): error.code == .bodyTooLarge ? .contentTooLarge : .badRequest
        case .outboxRefused, .outboxFailed: .serviceUnavailable
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .unsupportedMediaType: .unsupportedMediaType
        case .bodyTooLarge: .contentTooLarge
        case .requestTimeout: .requestTimeout
        }
    }

    /// One line for the client.
    public var message: String {
        switch self {
        case .accepted(let ids): "\(ids.count) event(s) stored"
        case .testPing: "test ping received; nothing to publish"
        // `LINE:COLUMN: message`: where in the body the decoder stopped.
        case .undecodable(let error): error.description
        case .outboxRefused(let error): error.message
        case .outboxFailed(let description): description
        case .unauthorized: "missing or wrong token"
        case .forbidden(let client): "source address \(client ?? "unknown") is not allowed"
        case .unsupportedMediaType(let contentType): "content type \(contentType) is neither XML nor JSON"
        case .bodyTooLarge(let limit): "body is larger than \(limit) bytes"
        case .requestTimeout(let milliseconds): "body not received within \(milliseconds) ms"
        }
    }

    /// Seconds the client should wait before sending again (`Retry-After`), when
    /// the refusal is temporary: longer after a failure than when merely full.
    public var retryAfterSeconds: Int? {
        switch self {
        case .outboxRefused: 30
        case .outboxFailed: 60
        default: nil
        }
    }

    /// The events stored.
    var eventCount: Int {
        if case .accepted(let ids) = self { return ids.count }
        return 0
    }

    /// Refused before the body was read (or, for 408, while it was): these answer
    /// `{"error": code}`, the intake's outcomes `{"status": code}`. Both shapes are
    /// what clients have always parsed.
    private var isEdgeRefusal: Bool {
        switch self {
        case .unauthorized, .forbidden, .unsupportedMediaType, .bodyTooLarge, .requestTimeout: true
        case .accepted, .testPing, .undecodable, .outboxRefused, .outboxFailed: false
        }
    }

    /// The JSON answer's text: ``fields`` in compact JSON, then a newline.
    var body: ByteBuffer {
        guard case .accepted(let ids) = self else { return ResponseJSON.body(fields) }
        // Nearly every answer: written straight out, not through a dictionary of
        // fields. The same bytes as ResponseJSON.body(fields), keys in their sorted order.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + 68 * ids.count)
        bytes.append(UInt8(ascii: "{"))
        if !ids.isEmpty {
            bytes.append(contentsOf: #""ids":["#.utf8)
            for (index, id) in ids.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                CanonicalJSONWriter.writeString(id, into: &bytes)
            }
            bytes.append(contentsOf: "],".utf8)
        }
        bytes.append(contentsOf: #""message":"#.utf8)
        CanonicalJSONWriter.writeString(message, into: &bytes)
        bytes.append(contentsOf: #","status":"accepted"}"#.utf8)
        bytes.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: bytes)
    }

    /// The members of the JSON answer.
    var fields: [String: ResponseJSON] {
        if isEdgeRefusal { return ["error": .string(code), "message": .string(message)] }
        var fields: [String: ResponseJSON] = ["status": .string(code), "message": .string(message)]
        if case .accepted(let ids) = self, !ids.isEmpty { fields["ids"] = .array(ids.map(ResponseJSON.string)) }
        return fields
    }

    /// The answer: status, JSON body and, for a temporary refusal, `Retry-After`.
    func response() -> Response {
        var response = Response(status: status, headers: ResponseJSON.headers, body: ResponseBody(byteBuffer: body))
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }

    /// The same answer as HTTP parts, for the channel handlers that answer
    /// without Hummingbird's router (``CallbackChannelHandler``,
    /// ``RequestDeadline``): the head, with the body's length and `extra`
    /// fields (a request id, `Connection: close`), then the body.
    func responseParts(adding extra: HTTPFields = [:]) -> (head: HTTPResponse, body: ByteBuffer) {
        let body = body
        var fields = ResponseJSON.headers
        fields[.contentLength] = String(body.readableBytes)
        if let retryAfterSeconds { fields[.retryAfter] = String(retryAfterSeconds) }
        fields.append(contentsOf: extra)
        return (HTTPResponse(status: status, headerFields: fields), body)
    }
}
