import CIBridgeCore
import Foundation
import Testing

@Suite("Envelope JSON")
struct EnvelopeJSONTests {
    private let data = CanonicalValue.object([
        CanonicalMember("JobId", .string("j1")), CanonicalMember("Note", .string("say \"hi\"\n")),
    ])

    @Test("The id in the JSON is the hash of the data's JSON, and stands in for a missing partition key")
    func idFilledIn() throws {
        let envelope = Envelope(
            source: "/tencent-ci", type: EventType.other, subject: nil, time: nil, partitionKey: nil,
            extensions: [("jobid", "j1")], data: data)
        #expect(envelope.id == Envelope.contentID(type: EventType.other, dataJSON: CanonicalJSONWriter().bytes(of: data)))
        #expect(envelope.partitionKey == envelope.id)
        let (json, dataRange) = envelope.jsonBytesAndDataRange()
        #expect(Array(json[dataRange]) == CanonicalJSONWriter().bytes(of: data))
        #expect(envelope.dataJSON == CanonicalJSONWriter().bytes(of: data))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(object["id"] as? String == envelope.id)
        #expect(object["partitionkey"] as? String == envelope.id)
        #expect(envelope.attributes["id"] == envelope.id)
        #expect(envelope.attributes["partitionkey"] == envelope.id)
        #expect(!String(decoding: json, as: UTF8.self).contains("00000000000000000000000000000000"))
    }

    @Test("A given partition key is kept; the JSON is the same as the one rebuilt from its attributes")
    func partitionKeyKept() {
        let envelope = Envelope(
            source: "/tencent-ci", type: EventType.other, subject: "a/b.mp4", time: nil, partitionKey: "wf-1",
            extensions: [("jobid", "j1"), ("workflowid", "wf-1")], data: data)
        #expect(envelope.partitionKey == "wf-1")
        #expect(envelope.attributes["partitionkey"] == "wf-1")
        let rebuilt = Envelope.canonicalJSON(
            sortedAttributes: envelope.attributeList, dataJSON: CanonicalJSONWriter().bytes(of: data))
        #expect(rebuilt.json == envelope.jsonBytes())
        #expect(rebuilt.dataRange == envelope.jsonBytesAndDataRange().dataRange)
    }
}
