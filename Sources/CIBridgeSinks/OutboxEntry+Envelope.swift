import CIBridgeCore
import CIBridgeOutbox

extension OutboxEntry {
    /// The outbox entry of `envelope`: its canonical JSON as the payload, its
    /// partition key as the ordering key, and its attributes stored beside it
    /// (``RecordEnvelope`` reads them back without parsing the payload).
    public init(envelope: Envelope) {
        let (json, dataRange) = envelope.jsonBytesAndDataRange()
        self.init(
            key: envelope.partitionKey, payload: json,
            attributes: RecordAttributes(envelope.attributeList, bodyRange: dataRange))
    }
}
