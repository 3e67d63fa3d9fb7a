import CIBridgeCore
import CIBridgeOutbox
import CIBridgeSinks

/// Turns an outbox record (an envelope's canonical JSON) into a Kafka message
/// per the CloudEvents Kafka protocol binding. The key is the record's key,
/// the envelope's `partitionkey`, so one workflow's events share a partition.
enum KafkaEnvelopeEncoding {
    static let structuredContentType = Array("application/cloudevents+json".utf8)

    static func message(for record: OutboxRecord, topics: KafkaTopicRouter, mode: KafkaSinkConfiguration.ContentMode) -> KafkaMessage {
        let envelope = RecordEnvelope(record)
        let topic = topics.topic { envelope[$0] }
        let key = Array(record.key.utf8)
        guard mode == .binary, let dataRange = envelope.dataRange else {
            return KafkaMessage(
                topic: topic, key: key, value: record.payload, headers: [("content-type", structuredContentType)] + traceHeaders(envelope))
        }
        var headers = traceHeaders(envelope)
        for attribute in envelope.attributes {
            if attribute.name == "datacontenttype" {
                headers.append(("content-type", Array(attribute.value.utf8)))
            } else {
                headers.append(("ce_" + attribute.name, Array(attribute.value.utf8)))
            }
        }
        return KafkaMessage(topic: topic, key: key, value: Array(record.payload[dataRange]), headers: headers)
    }

    /// W3C `traceparent` and `tracestate` as plain headers, in both modes, the
    /// way OpenTelemetry's Kafka instrumentations propagate context. Not
    /// `ce_traceparent`: that would add the CloudEvents distributed-tracing
    /// extension attribute to the event, and the event must stay the same
    /// event whoever traced its delivery (the extension is for the trace of the
    /// event's creation, "not intended to replace the protocol specific headers").
    static func traceHeaders(_ envelope: RecordEnvelope) -> [(name: String, value: [UInt8])] {
        var headers: [(name: String, value: [UInt8])] = []
        if let traceparent = envelope.traceparent { headers.append(("traceparent", Array(traceparent.utf8))) }
        if let tracestate = envelope.tracestate { headers.append(("tracestate", Array(tracestate.utf8))) }
        return headers
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
        members.sort { UTF8Order.less($0.name, $1.name) }
        return Envelope.canonicalJSON(sortedAttributes: members, dataJSON: record.value).json
    }
}

extension KafkaRecord {
    /// The CloudEvents envelope this record carries, in canonical structured JSON,
    /// whichever content mode it was produced in.
    public var envelope: [UInt8] { KafkaEnvelopeEncoding.envelope(from: self) }
}
