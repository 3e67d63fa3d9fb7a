/// The W3C trace context stored with a record, beside its attributes but not
/// in its payload: the envelope stays byte-identical for the same event,
/// whoever traced it. Sinks send it on as they are (Kafka headers, Redis
/// fields); the outbox does not interpret it.
public enum RecordTrace {
    /// Attribute names that CloudEvents attribute names (lower-case letters and
    /// digits) can never be, so they cannot collide with an envelope's.
    public static let traceparentAttribute = "@traceparent"
    public static let tracestateAttribute = "@tracestate"

    /// Whether `name` is one of these rather than an envelope attribute.
    public static func isTraceAttribute(_ name: String) -> Bool { name.utf8.first == UInt8(ascii: "@") }
}
