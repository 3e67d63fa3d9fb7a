import CIBridgeCore
import CIBridgeOutbox

extension OutboxEntry {
    /// The outbox entry of `envelope`: its canonical JSON as the payload, its
    /// partition key as the ordering key, and its attributes stored beside it
    /// (``RecordEnvelope`` reads them back without parsing the payload).
    public init(envelope: Envelope) {
        self.init(envelope: envelope, traceparent: nil, tracestate: nil)
    }

    /// The same, with a W3C `traceparent` and `tracestate` stored beside the
    /// attributes, not in the payload: the same event is the same bytes, traced or not.
    public init(envelope: Envelope, traceparent: String?, tracestate: String?) {
        let (json, dataRange) = envelope.jsonBytesAndDataRange()
        var attributes = envelope.attributeList
        if let traceparent { attributes.append((RecordTrace.traceparentAttribute, traceparent)) }
        if let tracestate { attributes.append((RecordTrace.tracestateAttribute, tracestate)) }
        self.init(key: envelope.partitionKey, payload: json, attributes: RecordAttributes(attributes, bodyRange: dataRange))
    }
}
