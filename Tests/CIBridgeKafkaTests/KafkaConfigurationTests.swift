import CIBridgeCore
import CIBridgeKafka
import Testing

@Suite("Kafka configuration")
struct KafkaConfigurationTests {
    @Test("Safe defaults: idempotent, acks=all, compressed, finite timeout; user properties win")
    func defaults() {
        let config = KafkaSinkConfiguration(bootstrapServers: "k:9092", properties: ["linger.ms": "20", "client.id": "edge-1"])
        let effective = config.effectiveProperties
        #expect(effective["enable.idempotence"] == "true")
        #expect(effective["acks"] == "all")
        #expect(effective["compression.type"] == "lz4")
        #expect(effective["message.timeout.ms"] == "30000")
        #expect(effective["linger.ms"] == "20")
        #expect(effective["client.id"] == "edge-1")
        #expect(effective["bootstrap.servers"] == "k:9092")
    }

    @Test("Secrets are masked in the redacted view")
    func redaction() {
        let config = KafkaSinkConfiguration(bootstrapServers: "k:9092", properties: [
            "sasl.username": "bridge", "sasl.password": "hunter2", "ssl.key.password": "s3cret",
            "sasl.oauthbearer.config": "principal=x secret=y",
        ])
        let shown = config.redactedProperties
        #expect(shown["sasl.username"] == "bridge")
        #expect(shown["sasl.password"] == "***")
        #expect(shown["ssl.key.password"] == "***")
        #expect(shown["sasl.oauthbearer.config"] == "***")
        #expect(!shown.values.contains { $0.contains("hunter2") || $0.contains("s3cret") })
    }

    @Test("A wrong librdkafka property is one clear error naming it")
    func badProperty() throws {
        let error = #expect(throws: KafkaError.self) {
            _ = try KafkaProducer(properties: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"], logger: .init(label: "t"), onDelivery: { _ in })
        }
        #expect(error?.message.contains("no.such.property") == true)
    }

    @Test("Topic templates render attributes safely")
    func templates() throws {
        let router = try KafkaTopicRouter(byType: ["t": "ci.{tag}.{region}"], fallback: "ci.other")
        let json = Array(#"{"data":{"a":"b"},"region":"ap chongqing/1","tag":"SmartCover","type":"t"}"#.utf8)
        #expect(router.topic(for: EnvelopeFields(json: json)) == "ci.SmartCover.ap_chongqing_1")
        let other = Array(#"{"type":"u"}"#.utf8)
        #expect(router.topic(for: EnvelopeFields(json: other)) == "ci.other")
        let missing = try KafkaTopicRouter(byType: [:], fallback: "ci.{workflowid}")
        #expect(missing.topic(for: EnvelopeFields(json: other)) == "ci.none")
        // An attribute no envelope has is a typo, refused when the template is parsed.
        #expect(throws: TemplateError.self) { try KafkaTopicRouter(byType: [:], fallback: "ci.{nothing}") }
    }

    @Test("Envelope fields are read without the data tree, escapes decoded")
    func fields() throws {
        let envelope = try #require(EnvelopeBuilder().envelopes(for: CallbackDecoder().decode(Array(
            #"{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","Input":{"Object":"a \"q\" \\ 名.mp4"},"Tag":"T"}}"#.utf8))).first)
        let bytes = envelope.jsonBytes()
        let fields = try #require(EnvelopeFields(json: bytes))
        #expect(fields["subject"] == "a \"q\" \\ 名.mp4")
        #expect(fields["id"] == envelope.id)
        let range = try #require(fields.dataRange)
        #expect(Array(bytes[range]) == envelope.dataJSON)
        #expect(EnvelopeFields(json: Array("[1]".utf8)) == nil)
    }
}
