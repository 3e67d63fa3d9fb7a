import CIBridgeCore
import CIBridgeOutbox

/// Turns an outbox record (an envelope's canonical JSON) into a Kafka message
/// per the CloudEvents Kafka protocol binding. The key is the record's key,
/// the envelope's `partitionkey`, so one workflow's events share a partition.
enum KafkaEnvelopeEncoding {
    static let structuredContentType = Array("application/cloudevents+json".utf8)

    static func message(for record: OutboxRecord, topics: KafkaTopicRouter, mode: KafkaSinkConfiguration.ContentMode) -> KafkaMessage {
        let fields = EnvelopeFields(json: record.payload)
        let topic = topics.topic(for: fields)
        let key = Array(record.key.utf8)
        guard mode == .binary, let fields, let dataRange = fields.dataRange else {
            return KafkaMessage(topic: topic, key: key, value: record.payload, headers: [("content-type", structuredContentType)])
        }
        var headers: [(name: String, value: [UInt8])] = []
        for attribute in fields.attributes {
            if attribute.name == "datacontenttype" {
                headers.append(("content-type", Array(attribute.value.utf8)))
            } else {
                headers.append(("ce_" + attribute.name, Array(attribute.value.utf8)))
            }
        }
        return KafkaMessage(topic: topic, key: key, value: Array(record.payload[dataRange]), headers: headers)
    }

    /// The structured envelope of a record read from Kafka in either mode: the value as is
    /// (structured), or the canonical envelope rebuilt from `ce_*` headers and the value (binary).
    static func envelope(from record: KafkaRecord) -> [UInt8] {
        let ceHeaders = record.headers.filter { $0.name.hasPrefix("ce_") }
        guard !ceHeaders.isEmpty else { return record.value }
        var members = ceHeaders.map { (name: String($0.name.dropFirst(3)), value: String(decoding: $0.value, as: UTF8.self)) }
        if let contentType = record.header("content-type") {
            members.append(("datacontenttype", String(decoding: contentType, as: UTF8.self)))
        }
        members.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        var output: [UInt8] = [UInt8(ascii: "{")]
        var dataWritten = false
        func writeData() {
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString("data", into: &output)
            output.append(UInt8(ascii: ":"))
            output += record.value
            dataWritten = true
        }
        for member in members {
            if !dataWritten, Array("data".utf8).lexicographicallyPrecedes(Array(member.name.utf8)) { writeData() }
            if output.count > 1 { output.append(UInt8(ascii: ",")) }
            CanonicalJSONWriter.writeString(member.name, into: &output)
            output.append(UInt8(ascii: ":"))
            CanonicalJSONWriter.writeString(member.value, into: &output)
        }
        if !dataWritten { writeData() }
        output.append(UInt8(ascii: "}"))
        return output
    }
}

extension KafkaRecord {
    /// The CloudEvents envelope this record carries, in canonical structured JSON,
    /// whichever content mode it was produced in.
    public var envelope: [UInt8] { KafkaEnvelopeEncoding.envelope(from: self) }
}
