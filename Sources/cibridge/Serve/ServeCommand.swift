import ArgumentParser
import CIBridgeConfiguration
import CIBridgeHTTP
import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeRedis
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive callbacks over HTTP, store them in the outbox, publish them to Kafka and/or Redis.",
        discussion: """
            Configuration: --config FILE, then CIBRIDGE_* variables, then flags (docs/configuration.md). \
            SIGTERM or SIGINT stops it: HTTP first, then the sinks flush, then the outbox closes; \
            anything not yet confirmed by a sink stays in the outbox for the next start.
            """
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration: BridgeConfiguration
        do {
            configuration = try options.load()
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
        let logger = makeLogger(configuration.log)
        let outbox = try Outbox(directory: configuration.outbox.directory, configuration: configuration.outboxConfiguration)
        for note in outbox.recovery.notes { logger.warning("outbox recovery", metadata: ["note": "\(note)"]) }
        let quarantine = try Quarantine(directory: configuration.outbox.directory + "/rejected")

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var refreshers: [@Sendable () -> Void] = [{ BridgeMetrics.record(outbox.status()) }]

        var services: [any Service] = []
        var embedded: KafkaMockCluster?
        if let kafka = configuration.kafka {
            var bootstrap = kafka.brokers
            if kafka.brokers == "embedded" {
                let cluster = try KafkaMockCluster(brokers: 1)
                embedded = cluster
                bootstrap = cluster.bootstrapServers
                logger.notice("embedded development Kafka (mock cluster, a few MB per partition)", metadata: ["bootstrap.servers": "\(bootstrap)"])
            }
            let sink = try KafkaSink(outbox: outbox, configuration: configuration.kafkaSinkConfiguration(bootstrapServers: bootstrap)!, logger: logger)
            services.append(SinkService(name: "kafka") { try await sink.run() })
            let statistics = sink.statistics
            refreshers.append {
                BridgeMetrics.recordSink(
                    "kafka", published: statistics.delivered.load(ordering: .relaxed), duplicates: 0,
                    retried: statistics.retried.load(ordering: .relaxed), deadLettered: statistics.deadLettered.load(ordering: .relaxed),
                    connected: sink.isConnected)
            }
        }
        if let redisConfiguration = try configuration.redisSinkConfiguration() {
            let sink = try RedisSink(outbox: outbox, configuration: redisConfiguration, logger: logger)
            services.append(SinkService(name: "redis") { try await sink.run() })
            let statistics = sink.statistics
            refreshers.append {
                BridgeMetrics.recordSink(
                    "redis", published: statistics.added.load(ordering: .relaxed), duplicates: statistics.duplicates.load(ordering: .relaxed),
                    retried: statistics.retried.load(ordering: .relaxed), deadLettered: statistics.deadLettered.load(ordering: .relaxed),
                    connected: sink.isConnected)
            }
        }
        if configuration.http.token == nil {
            logger.warning("no http.token: anyone who can reach the endpoint can post callbacks")
        }
        let allRefreshers = refreshers
        let metrics = BridgeMetrics(registry: registry) { for refresh in allRefreshers { refresh() } }
        let app = buildApplication(
            configuration: configuration, outbox: outbox, quarantine: quarantine, logger: logger, metrics: metrics,
            onServerRunning: { channel in
                logger.notice("listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            })
        services.append(ReplayCoordinator(outbox: outbox, configuration: configuration, logger: logger))
        // Shut down in reverse order: HTTP first (no new callbacks), then replays and sinks.
        services.append(app)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await outbox.close()
        _ = embedded
        logger.notice("stopped")
    }
}

/// A sink's publishing loop as a service: cancelled on graceful shutdown, after which it flushes and returns.
struct SinkService: Service {
    let name: String
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await body() }
    }
}

/// swift-log to standard error, as text or as one JSON object per line.
func makeLogger(_ settings: BridgeConfiguration.Log) -> Logger {
    let level = Logger.Level(rawValue: settings.level) ?? .info
    let format = settings.format
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "cibridge")
}
