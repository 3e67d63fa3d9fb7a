import CIBridgeOutbox
import HTTPTypes
import Tracing
import W3CTraceContext

/// The W3C trace context one callback's records carry to Kafka and Redis.
///
/// When the request carries a valid `traceparent` (from a load balancer or a
/// proxy), the callback continues that trace: same trace id, the caller's
/// sampled flag and `tracestate`, and a span id of cibridge's own (its receive
/// span) as the parent of whatever consumers do next. Otherwise cibridge
/// starts a trace. An invalid header is ignored, as W3C Trace Context asks
/// ("MUST ignore the traceparent when the parent-id is invalid"): one header
/// from a misbehaving proxy must not refuse a callback.
public struct CallbackTrace: Sendable, Hashable {
    /// The context the records carry: `traceparent` and `tracestate` values.
    public let context: TraceContext

    /// From the request's headers; `spanID` is the receive span's id
    /// (random when no tracer makes spans).
    public init(headers: HTTPFields, spanID: SpanID = .random()) {
        if let value = headers[.traceparent], let parent = Self.parse(value, headers[.tracestate]) {
            context = TraceContext(traceID: parent.traceID, spanID: spanID, flags: parent.flags, state: parent.state)
        } else {
            // A new trace: not sampled, since nothing here records it unless a tracer does.
            context = TraceContext(traceID: .random(), spanID: spanID, flags: [], state: TraceState())
        }
    }

    /// From the `traceparent` and `tracestate` a tracer injected for its
    /// span; nil when it injected none (no tracer, or an unusable value).
    public init?(injected carrier: [String: String]) {
        guard let value = carrier["traceparent"], let context = Self.parse(value, carrier["tracestate"]) else { return nil }
        self.context = context
    }

    /// The longest `tracestate` passed on. It comes from the caller and goes
    /// with every record: W3C Trace Context asks vendors to propagate at least
    /// 512 characters and lets them drop the rest; a longer one is dropped
    /// whole, so no caller can make every record carry kilobytes.
    static let maximumTraceState = 512

    /// A valid `traceparent` with `tracestate` when that is valid and short
    /// enough, else without it: W3C Trace Context says an invalid `tracestate`
    /// must not invalidate the `traceparent`.
    static func parse(_ traceparent: String, _ tracestate: String?) -> TraceContext? {
        if let tracestate, tracestate.utf8.count <= maximumTraceState,
            let context = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate)
        {
            return context
        }
        return try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: nil)
    }

    /// `00-<trace id>-<span id>-<flags>`.
    public var traceparent: String { context.traceParentHeaderValue }
    /// The vendor entries, or nil when there are none.
    public var tracestate: String? { context.traceStateHeaderValue }
}

extension HTTPField.Name {
    static let traceparent = HTTPField.Name("traceparent")!
    static let tracestate = HTTPField.Name("tracestate")!
}

/// Reads a trace context from a request's headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
