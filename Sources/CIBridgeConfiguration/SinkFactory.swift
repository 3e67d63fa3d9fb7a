import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeSinks
import Logging

/// The destinations cibridge publishes to; each is an outbox sink of this name.
public enum SinkKind: String, Sendable, CaseIterable {
    case kafka
    case redis
}

/// Makes sinks from configuration: the one place `serve`, `replay` and the
/// benchmarks get them from, so a new destination is its own module plus a
/// case here.
public struct SinkFactory: Sendable {
    public let configuration: BridgeConfiguration
    public let logger: Logger

    public init(configuration: BridgeConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The kinds of sink the configuration sets up, in a fixed order.
    public var kinds: [SinkKind] {
        SinkKind.allCases.filter { configuration.sinkNames.contains($0.rawValue) }
    }

    /// One sink of `kind` publishing `outbox`'s records for the outbox sink
    /// `name` (by default the kind's own; a replay's temporary sink has its own).
    ///
    /// - Parameter allowEmbedded: whether `kafka.brokers: embedded` may start a
    ///   development mock cluster in this process. A replay may not: its
    ///   records would go to a cluster nobody else can read.
    public func makeSink(
        _ kind: SinkKind, name: String? = nil, outbox: Outbox, allowEmbedded: Bool = true
    ) throws -> any Sink {
        switch kind {
        case .kafka:
            guard var sinkConfiguration = try configuration.kafkaSinkConfiguration() else {
                throw ConfigurationError(key: "kafka.brokers", "no kafka sink is configured")
            }
            if let name { sinkConfiguration.sinkName = name }
            var embedded: KafkaMockCluster?
            if sinkConfiguration.bootstrapServers == "embedded" {
                guard allowEmbedded else {
                    throw ConfigurationError(key: "kafka.brokers", "replay to kafka needs kafka.brokers (not 'embedded')")
                }
                let cluster = try KafkaMockCluster(brokers: 1)
                embedded = cluster
                sinkConfiguration.bootstrapServers = cluster.bootstrapServers
                logger.notice(
                    "embedded development Kafka (mock cluster, a few MB per partition)",
                    metadata: ["bootstrap.servers": "\(cluster.bootstrapServers)"])
            }
            return KafkaSink(outbox: outbox, configuration: sinkConfiguration, logger: logger, embedded: embedded)
        case .redis:
            guard var sinkConfiguration = try configuration.redisSinkConfiguration() else {
                throw ConfigurationError(key: "redis.url", "no redis sink is configured")
            }
            if let name { sinkConfiguration.sinkName = name }
            return try RedisSink(outbox: outbox, configuration: sinkConfiguration, logger: logger)
        }
    }

    /// Every configured sink, for `serve`.
    public func makeSinks(outbox: Outbox) throws -> [any Sink] {
        try kinds.map { try makeSink($0, outbox: outbox) }
    }
}
