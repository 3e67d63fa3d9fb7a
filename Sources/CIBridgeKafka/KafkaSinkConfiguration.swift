/// How the Kafka sink connects, routes and encodes.
public struct KafkaSinkConfiguration: Sendable {
    /// CloudEvents Kafka binding mode.
    public enum ContentMode: String, Sendable, Hashable, CaseIterable {
        /// The whole envelope as the value, `content-type: application/cloudevents+json`.
        case structured
        /// `data` as the value, attributes as `ce_*` headers, `content-type` from `datacontenttype`.
        case binary
    }

    /// `host:port,…`.
    public var bootstrapServers: String
    /// The outbox sink this publishes for.
    public var sinkName: String
    public var topics: KafkaTopicRouter
    public var contentMode: ContentMode
    /// Any librdkafka property; these win over ``safeDefaults``.
    public var properties: [String: String]
    /// How long shutdown waits for in-flight messages before leaving them pending in the outbox.
    public var flushTimeout: Duration
    /// Records taken from the outbox per batch.
    public var batchSize: Int

    public init(
        bootstrapServers: String, sinkName: String = "kafka", topics: KafkaTopicRouter = .standard,
        contentMode: ContentMode = .structured, properties: [String: String] = [:],
        flushTimeout: Duration = .seconds(10), batchSize: Int = 2000
    ) {
        self.bootstrapServers = bootstrapServers
        self.sinkName = sinkName
        self.topics = topics
        self.contentMode = contentMode
        self.properties = properties
        self.flushTimeout = flushTimeout
        self.batchSize = batchSize
    }

    /// A producer that must not lose data: idempotent (so `acks=all`, ordered
    /// retries, no duplicates from librdkafka's own retries), lz4, a short
    /// linger to batch, and a finite message timeout — across long outages the
    /// outbox holds the data, not librdkafka's memory. Reconnection backs off to
    /// 500 ms at most (librdkafka: 10 s): records for a partition whose leader is
    /// still in backoff hold up the outbox's in-flight window for everyone, so
    /// the last broker to be reconnected sets when the whole drain resumes.
    public static let safeDefaults: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "5",
        "compression.type": "lz4",
        "message.timeout.ms": "30000",
        "queue.buffering.max.messages": "200000",
        "batch.num.messages": "10000",
        "socket.keepalive.enable": "true",
        "reconnect.backoff.max.ms": "500",
        "client.id": "cibridge",
        "log_level": "4",
    ]

    /// What the producer is created with: safe defaults, then ``properties``, then the bootstrap servers.
    public var effectiveProperties: [String: String] {
        var result = Self.safeDefaults
        for (name, value) in properties { result[name] = value }
        result["bootstrap.servers"] = bootstrapServers
        return result
    }

    /// ``effectiveProperties`` with secrets masked, for logs and `config check`.
    public var redactedProperties: [String: String] {
        Self.redacted(effectiveProperties)
    }

    /// `properties` with the values of secret-looking names (password, secret,
    /// token, key material) replaced by `***`.
    public static func redacted(_ properties: [String: String]) -> [String: String] {
        KafkaClientConfig.redacted(properties)
    }
}
