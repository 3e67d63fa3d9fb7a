import CIBridgeCore
import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeRedis

/// Everything `cibridge serve` runs with, from defaults, a YAML file,
/// `CIBRIDGE_*` environment variables and flags, in that order of precedence
/// (later wins). docs/configuration.md lists every key.
public struct BridgeConfiguration: Sendable {
    public struct HTTP: Sendable, Equatable {
        public var listen = HostPort(host: "0.0.0.0", port: 8080)
        /// Shared secret callers must present; `nil` leaves the endpoint open.
        public var token: String?
        /// Source addresses allowed (CIDR); empty allows all.
        public var allow: [CIDR] = []
        /// Proxies whose `X-Forwarded-For` is believed.
        public var trustedProxies: [CIDR] = []
        public var bodyLimit = 1 << 20
        public var readTimeoutMilliseconds = 10_000
        public var maxConnections = 1024
        /// TLS on the listener; `nil` speaks plain HTTP (for a TLS front).
        public var tls: TLS?

        public init() {}
    }

    /// `http.tls`: the listener's certificate, and optionally the CA its
    /// clients' certificates must chain to (mutual TLS).
    public struct TLS: Sendable, Equatable {
        /// Whether a client certificate is required or only checked when presented.
        public enum ClientAuth: String, Sendable, Equatable {
            case require, optional
        }

        /// PEM file: the server certificate, then any intermediates.
        public var certificate: String
        /// PEM file: the private key of the certificate.
        public var key: String
        /// PEM file of the CA certificates client certificates must chain to.
        public var clientCA: String?
        /// Applies with `clientCA`: `require` (the default) refuses a handshake without a valid client certificate.
        public var clientAuth: ClientAuth = .require
        /// Whether `client_auth` was set (it means nothing without `client_ca`).
        var clientAuthGiven = false
        /// How often the files are checked for a change (they are also reloaded on SIGHUP).
        public var reloadIntervalMilliseconds = 5_000

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public struct Outbox: Sendable, Equatable {
        public var directory = "/var/lib/cibridge/outbox"
        /// `nil`: fsync before every acknowledgement; a value: at most this many ms later.
        public var fsyncIntervalMilliseconds: Int?
        /// How long a group commit waits for more appends under load (0: never).
        public var commitWindowMicroseconds = CommitWindow.standard.microseconds
        public var segmentSize: Int64 = 64 << 20
        public var maxSize: Int64 = 10 << 30
        public var minFree: Int64 = 512 << 20
        public var retentionSeconds: Int64 = 24 * 3600
        public var retentionSize: Int64 = 1 << 30
    }

    public struct Kafka: Sendable, Equatable {
        /// `host:port,…`, or `embedded` for the development mock cluster.
        public var brokers: String
        public var contentMode: KafkaSinkConfiguration.ContentMode = .structured
        public var taskFinishTopic = "ci.task-finish"
        public var workflowFinishTopic = "ci.workflow-finish"
        /// Every moderation result, whatever its kind.
        public var moderationTopic = "ci.moderation"
        public var defaultTopic = "ci.events"
        public var properties: [String: String] = [:]
        public var flushTimeoutMilliseconds = 10_000

        public init(brokers: String) {
            self.brokers = brokers
        }
    }

    public struct Redis: Sendable, Equatable {
        public var url: String
        /// Every envelope to its topic's shard stream (`ci:task-finish:<n>`, …).
        public var topicStreams = true
        public var taskFinishTopic = "ci:task-finish"
        public var workflowFinishTopic = "ci:workflow-finish"
        public var moderationTopic = "ci:moderation"
        public var defaultTopic = "ci:events"
        public var shards = RedisSinkConfiguration.standardShards
        /// Every envelope also to its workflow stream (``streams``). Off unless
        /// set, or unless ``streams`` is set (a configuration that names its
        /// streams wants them).
        public var workflowStreams = false
        /// Whether `redis.workflow_streams` was given (then `redis.streams` does not turn them on).
        var workflowStreamsGiven = false
        public var streams = ["ci:wf:{workflowid}", "ci:jobs:{partitionkey}"]
        /// Replicas a write must reach (`WAIT`) before its records count as delivered.
        public var minReplicas = 0
        public var replicaTimeoutMilliseconds = 1_000
        public var maxLength = 100_000
        public var dedupeSeconds = 86_400
        public var commandTimeoutMilliseconds = 5_000
        public var connections = 2

        public init(url: String) {
            self.url = url
        }
    }

    public struct Log: Sendable, Equatable {
        public enum Format: String, Sendable, CaseIterable { case text, json }
        public var level = "info"
        public var format = Format.text
    }

    public var http = HTTP()
    public var outbox = Outbox()
    /// `nil` when Kafka is not configured.
    public var kafka: Kafka?
    /// `nil` when Redis is not configured.
    public var redis: Redis?
    public var log = Log()
    public var tracing = Tracing()

    /// `tracing`: spans exported over OTLP/HTTP. W3C trace context reaches the
    /// sinks either way; spans are made only when an endpoint is set.
    public struct Tracing: Sendable, Equatable {
        /// The collector's OTLP/HTTP traces URL (`http://collector:4318/v1/traces`); nil: no spans.
        public var otlpEndpoint: String?
        /// The `service.name` resource attribute of the spans.
        public var serviceName = "cibridge"
    }

    public init() {}

    /// The outbox sinks this configuration publishes to.
    public var sinkNames: [String] {
        (kafka == nil ? [] : ["kafka"]) + (redis == nil ? [] : ["redis"])
    }

    /// The outbox settings, for the configured sinks.
    public var outboxConfiguration: OutboxConfiguration {
        OutboxConfiguration(
            sinks: sinkNames, segmentBytes: outbox.segmentSize,
            fsync: outbox.fsyncIntervalMilliseconds.map { .interval(milliseconds: $0) } ?? .always,
            commitWindow: CommitWindow(microseconds: outbox.commitWindowMicroseconds),
            maxBytes: outbox.maxSize, minFreeBytes: outbox.minFree, retentionSeconds: outbox.retentionSeconds,
            retentionBytes: outbox.retentionSize)
    }

    /// The outbox settings with `sink` among the sinks (tools that act on one sink).
    public func outboxConfigurationIncluding(_ sink: String) -> OutboxConfiguration {
        var result = outboxConfiguration
        if !result.sinks.contains(sink) { result.sinks.append(sink) }
        return result
    }

    /// The Kafka sink settings (`kafka.brokers` as given; ``SinkFactory`` starts
    /// the mock cluster for `embedded`).
    public func kafkaSinkConfiguration() throws(ConfigurationError) -> KafkaSinkConfiguration? {
        guard let kafka else { return nil }
        return KafkaSinkConfiguration(
            bootstrapServers: kafka.brokers, topics: try kafkaTopics(kafka),
            contentMode: kafka.contentMode, properties: kafka.properties,
            flushTimeout: .milliseconds(kafka.flushTimeoutMilliseconds))
    }

    /// The topic templates, each parsed and checked; a mistake names its own key.
    func kafkaTopics(_ kafka: Kafka) throws(ConfigurationError) -> KafkaTopicRouter {
        func topic(_ text: String, key: String) throws(ConfigurationError) -> AttributeTemplate {
            do {
                return try AttributeTemplate(text, rules: KafkaTopicRouter.topicRules)
            } catch {
                throw ConfigurationError(key: key, error.description)
            }
        }
        var byType = [
            EventType.taskFinish: try topic(kafka.taskFinishTopic, key: "kafka.topic_task_finish"),
            EventType.workflowFinish: try topic(kafka.workflowFinishTopic, key: "kafka.topic_workflow_finish"),
        ]
        let moderation = try topic(kafka.moderationTopic, key: "kafka.topic_moderation")
        for type in EventType.moderation { byType[type] = moderation }
        return KafkaTopicRouter(byType: byType, fallback: try topic(kafka.defaultTopic, key: "kafka.topic_default"))
    }

    /// The Redis sink settings.
    public func redisSinkConfiguration() throws(ConfigurationError) -> RedisSinkConfiguration? {
        guard let redis else { return nil }
        let target: RedisTarget
        do {
            target = try RedisTarget(redis.url)
        } catch {
            throw ConfigurationError(key: "redis.url", error.message)
        }
        let streams: AttributeTemplateList
        do {
            streams = try AttributeTemplateList(redis.streams)
        } catch {
            throw ConfigurationError(key: "redis.streams", error.description)
        }
        let topics: [EventTopic: String] = [
            .taskFinish: redis.taskFinishTopic, .workflowFinish: redis.workflowFinishTopic,
            .moderation: redis.moderationTopic, .events: redis.defaultTopic,
        ]
        let keys: [EventTopic: String] = [
            .taskFinish: "redis.topic_task_finish", .workflowFinish: "redis.topic_workflow_finish",
            .moderation: "redis.topic_moderation", .events: "redis.topic_default",
        ]
        let configuration = RedisSinkConfiguration(
            target: target, topicStreams: redis.topicStreams, topics: topics, shards: redis.shards,
            workflowStreams: redis.workflowStreams, streams: streams, minReplicas: redis.minReplicas,
            replicaTimeout: .milliseconds(redis.replicaTimeoutMilliseconds), maxLength: redis.maxLength,
            dedupeSeconds: redis.dedupeSeconds, commandTimeout: .milliseconds(redis.commandTimeoutMilliseconds),
            connections: redis.connections)
        // Name the key a mistake is in.
        for topic in EventTopic.allCases {
            let name = topics[topic]!
            if name.isEmpty { throw ConfigurationError(key: keys[topic]!, "give the topic's stream name") }
            if let problem = RedisSinkConfiguration.topicNameProblem(name, dedupePrefix: configuration.dedupePrefix) {
                throw ConfigurationError(key: keys[topic]!, "'\(name)' \(problem)")
            }
            if let other = EventTopic.allCases.first(where: { $0 != topic && topics[$0] == name }), topic.name < other.name {
                throw ConfigurationError(key: keys[topic]!, "'\(name)' is also \(keys[other]!); give each topic its own streams")
            }
        }
        guard (1...RedisSinkConfiguration.maximumShards).contains(redis.shards) else {
            throw ConfigurationError(key: "redis.shards", "\(redis.shards) shards: use 1 to \(RedisSinkConfiguration.maximumShards)")
        }
        guard redis.topicStreams || redis.workflowStreams else {
            throw ConfigurationError(key: "redis.topic_streams", "with redis.workflow_streams off too, nothing would be published")
        }
        do {
            try configuration.validate()
        } catch {
            let key =
                error.message.contains("stream template")
                ? "redis.streams" : error.message.hasPrefix("redis-cluster") ? "redis.workflow_streams" : "redis"
            throw ConfigurationError(key: key, error.message)
        }
        return configuration
    }
}

/// `host:port`.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6-address]:port`; `key` names the setting in the error.
    public init(parsing text: String, key: String) throws(ConfigurationError) {
        var host = text
        var portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(after: close)...].dropFirst())
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty else {
            throw ConfigurationError(key: key, "'\(text)' is not host:port (e.g. 0.0.0.0:8080)")
        }
        self.init(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
