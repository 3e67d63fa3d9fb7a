import CIBridgeCore
import CIBridgeOutbox
import CIBridgeSinks
import CIBridgeTestSupport
import Testing

/// Sinks read envelopes through ``RecordEnvelope``: from the attributes stored
/// with the record, or, for records appended before they existed, from the payload.
@Suite("Record envelopes")
struct RecordEnvelopeTests {
    static func envelopes() throws -> [Envelope] {
        try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 2)
    }

    @Test("Stored attributes and a scan of the payload agree on every attribute and on data")
    func storedAndScannedAgree() throws {
        for envelope in try Self.envelopes() {
            let entry = OutboxEntry(envelope: envelope)
            #expect(entry.payload == envelope.jsonBytes())
            #expect(!entry.attributes.isEmpty)
            let stored = RecordEnvelope(
                OutboxRecord(sequence: 1, appendTime: 0, key: entry.key, routing: [], payload: entry.payload, attributes: entry.attributes))
            let scanned = RecordEnvelope(OutboxRecord(sequence: 1, appendTime: 0, key: entry.key, routing: [], payload: entry.payload))
            #expect(stored.attributes.map(\.name) == scanned.attributes.map(\.name))
            #expect(stored.attributes.map(\.value) == scanned.attributes.map(\.value))
            for (name, value) in envelope.attributeList {
                #expect(stored[name] == value)
                #expect(scanned[name] == value)
            }
            #expect(stored["nothing"] == nil && scanned["nothing"] == nil)
            let data = try #require(stored.dataRange)
            #expect(data == scanned.dataRange)
            #expect(Array(entry.payload[data]) == envelope.dataJSON)
        }
    }
}
