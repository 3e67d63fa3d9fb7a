import CIBridgeCore
import CIBridgeOutbox

/// An outbox record read as the CloudEvents envelope it holds: its attributes
/// and its `data`, for choosing topics, streams and headers.
///
/// Attributes come from the record's frame (``RecordAttributes``, written at
/// append time), so the payload is not parsed again. Only records appended
/// before attributes existed are scanned (``EnvelopeFields``), once each.
public struct RecordEnvelope: Sendable {
    public let record: OutboxRecord
    /// The scan of the payload, for records without stored attributes.
    private let scanned: EnvelopeFields?

    public init(_ record: OutboxRecord) {
        self.record = record
        self.scanned = record.attributes.isEmpty ? EnvelopeFields(json: record.payload) : nil
    }

    /// The string attribute `name`, if the envelope has it.
    public subscript(name: String) -> String? {
        if let scanned { return scanned[name] }
        return record.attributes[name]
    }

    /// Every string attribute, in the envelope's order (not the trace context).
    public var attributes: [(name: String, value: String)] {
        scanned?.attributes ?? record.attributes.all.filter { !RecordTrace.isTraceAttribute($0.name) }
    }

    /// The W3C `traceparent` stored with the record (nil for records from before tracing).
    public var traceparent: String? { record.attributes[RecordTrace.traceparentAttribute] }
    /// The W3C `tracestate` stored with the record, when the caller sent one.
    public var tracestate: String? { record.attributes[RecordTrace.tracestateAttribute] }

    /// Where `data` is in the payload, when the envelope has one.
    public var dataRange: Range<Int>? {
        scanned?.dataRange ?? record.attributes.bodyRange
    }
}
