import CIBridgeOutbox
#if canImport(Glibc)
import Glibc
#endif
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
    /// The `traceparent` value, made once: every record of the callback carries it.
    public let traceparent: String

    /// From the request's headers, with a random span id (the receive span's
    /// id, when no tracer makes spans). A new trace's ids come from one
    /// `getrandom` call, not one per 8 bytes as the ids' own `random()` makes them.
    public init(headers: HTTPFields) {
        var random = (UInt64(0), UInt64(0), UInt64(0))
        Self.fillRandom(&random)
        let spanID = SpanID(bytes: unsafeBitCast(random.2, to: SpanID.Bytes.self))
        if let value = headers.value(of: .traceparent), let parent = Self.parse(value, headers.value(of: .tracestate)) {
            self.init(TraceContext(traceID: parent.traceID, spanID: spanID, flags: parent.flags, state: parent.state))
        } else {
            // A new trace: not sampled, since nothing here records it unless a tracer does.
            let traceID = TraceID(bytes: unsafeBitCast((random.0, random.1), to: TraceID.Bytes.self))
            self.init(TraceContext(traceID: traceID, spanID: spanID, flags: [], state: TraceState()))
        }
    }

    /// From the `traceparent` and `tracestate` a tracer injected for its
    /// span; nil when it injected none (no tracer, or an unusable value).
    public init?(injected carrier: [String: String]) {
        guard let value = carrier["traceparent"], let context = Self.parse(value, carrier["tracestate"]) else { return nil }
        self.init(context)
    }

    private init(_ context: TraceContext) {
        self.context = context
        self.traceparent = Self.traceparent(context)
    }

    /// `00-{trace id}-{span id}-{flags}` in lowercase hex, written in one
    /// string allocation (the library's own value interpolates four strings).
    static func traceparent(_ context: TraceContext) -> String {
        String(unsafeUninitializedCapacity: 55) { output in
            let hex: StaticString = "0123456789abcdef"
            var at = 0
            func put(_ byte: UInt8) {
                hex.withUTF8Buffer { digits in
                    output[at] = digits[Int(byte >> 4)]
                    output[at + 1] = digits[Int(byte & 0x0F)]
                }
                at += 2
            }
            func dash() {
                output[at] = UInt8(ascii: "-")
                at += 1
            }
            put(0)
            dash()
            withUnsafeBytes(of: context.traceID.bytes) { for byte in $0 { put(byte) } }
            dash()
            withUnsafeBytes(of: context.spanID.bytes) { for byte in $0 { put(byte) } }
            dash()
            put(context.flags.rawValue)
            return at
        }
    }

    /// Fills `value`'s bytes from the kernel's random source (glibc's
    /// `arc4random_buf`: one `getrandom` call, and it cannot fail).
    static func fillRandom<T>(_ value: inout T) {
        withUnsafeMutableBytes(of: &value) { bytes in
            guard let base = bytes.baseAddress else { return }
            arc4random_buf(base, bytes.count)
        }
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
        HTTPField.Name(key).flatMap { carrier.value(of: $0) }
    }
}
