import CIBridgeKafka
import CIBridgeRedis

extension BridgeConfiguration {
    /// The effective configuration as YAML, every key, secrets masked
    /// (the token, passwords in the Redis URL, secret Kafka properties).
    public var maskedYAML: String {
        var lines: [String] = []
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        lines.append("http:")
        lines.append("  listen: \(quoted(http.listen.description))")
        lines.append("  token: \(http.token == nil ? "null  # the endpoint is open: set a token" : "\"***\"")")
        lines.append("  allow: \(list(http.allow.map(\.description)))")
        lines.append("  trusted_proxies: \(list(http.trustedProxies.map(\.description)))")
        lines.append("  body_limit: \(http.bodyLimit)")
        lines.append("  read_timeout: \(http.readTimeoutMilliseconds)ms")
        lines.append("  max_connections: \(http.maxConnections)")
        if let tls = http.tls {
            lines.append("  tls:")
            lines.append("    certificate: \(quoted(tls.certificate))")
            lines.append("    key: \(quoted(tls.key))")
            if let clientCA = tls.clientCA {
                lines.append("    client_ca: \(quoted(clientCA))")
                lines.append("    client_auth: \(tls.clientAuth.rawValue)")
            }
            lines.append("    reload_interval: \(tls.reloadIntervalMilliseconds)ms")
        } else {
            lines.append("  tls: null  # plain HTTP: put TLS in front, or set http.tls.certificate and http.tls.key")
        }
        lines.append("outbox:")
        lines.append("  dir: \(quoted(outbox.directory))")
        lines.append("  fsync: \(outbox.fsyncIntervalMilliseconds.map { "interval:\($0)ms" } ?? "always")")
        lines.append("  commit_window: \(outbox.commitWindowMicroseconds)us")
        lines.append("  segment_size: \(outbox.segmentSize)")
        lines.append("  max_size: \(outbox.maxSize)")
        lines.append("  min_free: \(outbox.minFree)")
        lines.append("  retention: \(outbox.retentionSeconds)s")
        lines.append("  retention_size: \(outbox.retentionSize)")
        if let kafka {
            lines.append("kafka:")
            lines.append("  brokers: \(quoted(kafka.brokers))")
            lines.append("  content_mode: \(kafka.contentMode.rawValue)")
            lines.append("  topic_task_finish: \(quoted(kafka.taskFinishTopic))")
            lines.append("  topic_workflow_finish: \(quoted(kafka.workflowFinishTopic))")
            lines.append("  topic_moderation: \(quoted(kafka.moderationTopic))")
            lines.append("  topic_default: \(quoted(kafka.defaultTopic))")
            lines.append("  flush_timeout: \(kafka.flushTimeoutMilliseconds)ms")
            lines.append("  properties:  # effective librdkafka settings: safe defaults, then yours")
            let effective = KafkaSinkConfiguration(bootstrapServers: kafka.brokers, properties: kafka.properties).redactedProperties
            for (name, value) in effective.sorted(by: { $0.key < $1.key }) where name != "bootstrap.servers" {
                lines.append("    \(name): \(quoted(value))")
            }
        } else {
            lines.append("kafka: null  # not configured")
        }
        if let redis {
            lines.append("redis:")
            lines.append("  url: \(quoted((try? RedisTarget(redis.url).description) ?? "***"))")
            lines.append("  topic_streams: \(redis.topicStreams)")
            lines.append("  topic_task_finish: \(quoted(redis.taskFinishTopic))")
            lines.append("  topic_workflow_finish: \(quoted(redis.workflowFinishTopic))")
            lines.append("  topic_moderation: \(quoted(redis.moderationTopic))")
            lines.append("  topic_default: \(quoted(redis.defaultTopic))")
            lines.append("  shards: \(redis.shards)")
            lines.append("  workflow_streams: \(redis.workflowStreams)")
            lines.append("  streams: \(list(redis.streams))")
            lines.append("  min_replicas: \(redis.minReplicas)")
            lines.append("  replica_timeout: \(redis.replicaTimeoutMilliseconds)ms")
            lines.append("  max_length: \(redis.maxLength)")
            lines.append("  dedupe_window: \(redis.dedupeSeconds)s")
            lines.append("  command_timeout: \(redis.commandTimeoutMilliseconds)ms")
            lines.append("  connections: \(redis.connections)")
        } else {
            lines.append("redis: null  # not configured")
        }
        lines.append("log:")
        lines.append("  level: \(log.level)")
        lines.append("  format: \(log.format.rawValue)")
        lines.append("tracing:")
        lines.append("  otlp_endpoint: \(tracing.otlpEndpoint.map(quoted) ?? "null  # no spans; trace context still reaches the sinks")")
        lines.append("  service_name: \(quoted(tracing.serviceName))")
        return lines.joined(separator: "\n") + "\n"
    }
}
