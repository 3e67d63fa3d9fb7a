import ArgumentParser
import CIBridgeConfiguration
import CIBridgeHTTP
import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeSinks
import Foundation
import Hummingbird
import Logging
import Metrics
import OTel
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

    /// A test hook (``DevPowerCut``): SIGUSR2 simulates a power cut on the outbox.
    @Option(name: .customLong("dev-power-cut-seed"), help: .hidden)
    var powerCutSeed: UInt64?

    func run() async throws {
        let configuration: BridgeConfiguration
        do {
            configuration = try options.load()
        } catch {
            report("config error: \(error)")
            throw ExitCode(78)
        }
        let logger = makeLogger(configuration.log)
        // TLS files are checked before anything else starts: a listener that
        // cannot do its handshake is a configuration error, not a late surprise.
        var tlsStore: TLSContextStore?
        if let tls = configuration.http.tls {
            do {
                let material = try await TLSMaterial.load(tls).get()
                do {
                    try material.checkValidity()
                } catch {
                    // Served anyway: a renewal may be on its way and is picked up without a restart.
                    logger.error("TLS certificate not valid now; clients will refuse it", metadata: ["error": "\(error.message)"])
                }
                logger.notice("TLS on the listener", metadata: ["certificate": "\(material.summary())"])
                tlsStore = TLSContextStore(material)
            } catch let error as TLSError {
                report("config error: \(error.message)")
                throw ExitCode(78)
            }
        }
        var fileSystem: any OutboxFileSystem = PosixFileSystem()
        let powerCut = try powerCutSeed.map { try DevPowerCut(directory: configuration.outbox.directory, seed: $0) }
        if let powerCut, let powerCutSeed {
            fileSystem = powerCut.layer
            logger.warning("test hook: SIGUSR2 cuts the power on the outbox", metadata: ["seed": "\(powerCutSeed)"])
        }
        // Spans, when a collector is configured: bootstrapped before anything
        // makes one, and its service first in the group, so it stops last and
        // flushes what the others ended.
        let tracing = try configuration.tracing.otlpEndpoint.map { endpoint in
            try makeTracing(endpoint: endpoint, serviceName: configuration.tracing.serviceName, logger: logger)
        }
        let outbox = try await Outbox.open(
            directory: configuration.outbox.directory, configuration: configuration.outboxConfiguration,
            logger: Logger(label: "cibridge.outbox"), fileSystem: fileSystem,
            deliveryObserver: tracing == nil ? nil : PublishSpans())
        if outbox.recovery.created {
            // Harmless on a first start; after a restart it means the earlier outbox
            // (and whatever it held) is not where the configuration says.
            logger.warning(
                "outbox created: the directory did not exist, so this is a new, empty outbox; if this is a restart, the earlier one is gone",
                metadata: ["dir": "\(configuration.outbox.directory)"])
        }
        for note in outbox.recovery.notes { logger.warning("outbox recovery", metadata: ["note": "\(note)"]) }
        let quarantine = try Quarantine(directory: configuration.outbox.directory + "/rejected", fileSystem: fileSystem)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let sinks = try SinkFactory(configuration: configuration, logger: logger).makeSinks(outbox: outbox)
        var services: [any Service] = (tracing.map { [$0] } ?? []) + sinks.map(SinkService.init)
        let refresh: @Sendable () -> Void = {
            BridgeMetrics.record(outbox.status())
            BridgeMetrics.record(outbox.commitCounts)
            for sink in sinks {
                let statistics = sink.statistics
                BridgeMetrics.recordSink(
                    sink.name, published: statistics.delivered - statistics.duplicates, duplicates: statistics.duplicates,
                    retried: statistics.retried, deadLettered: statistics.deadLettered, connected: sink.isConnected,
                    endpoint: sink.endpoint)
            }
        }
        if configuration.http.token == nil {
            logger.warning("no http.token: anyone who can reach the endpoint can post callbacks")
        }
        let metrics = BridgeMetrics(registry: registry, refresh: refresh)
        let endpoints: @Sendable () -> [String: String] = {
            Dictionary(sinks.compactMap { sink in sink.endpoint.map { (sink.name, $0) } }) { first, _ in first }
        }
        let reloader = configuration.http.tls.flatMap { tls in
            tlsStore.map { TLSReloader(tls: tls, store: $0, logger: logger, metrics: metrics) }
        }
        var reloadOnHangup: (@Sendable () async -> Void)?
        if let reloader {
            services.append(reloader)
            reloadOnHangup = { await reloader.reload(reason: "SIGHUP") }
        }
        services.append(HangupService(logger: logger, reload: reloadOnHangup))
        let app = buildApplication(
            configuration: configuration, outbox: outbox, quarantine: quarantine, logger: logger, metrics: metrics,
            tls: tlsStore, spans: tracing != nil, endpoints: endpoints,
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
        withExtendedLifetime(powerCut) {}
        logger.notice("stopped")
    }
}

/// swift-otel's tracer, exporting spans over OTLP/HTTP (protobuf) to
/// `endpoint`, and the service that runs its batch processor and exporter.
/// Logs and metrics stay with swift-log and Prometheus: only traces go out.
/// `OTEL_*` variables are not read, so this configuration is the whole of it.
func makeTracing(endpoint: String, serviceName: String, logger: Logger) throws -> any Service {
    var configuration = OTel.Configuration.default
    configuration.serviceName = serviceName
    configuration.logs.enabled = false
    configuration.metrics.enabled = false
    configuration.diagnosticLogger = .custom(logger)
    configuration.traces.exporter = .otlp
    configuration.traces.otlpExporter.endpoint = endpoint
    configuration.traces.otlpExporter.protocol = .httpProtobuf
    // Spans reach the collector within a second (the default is 5 s).
    configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
    logger.notice("tracing: spans exported over OTLP/HTTP", metadata: ["endpoint": "\(endpoint)"])
    return try OTel.bootstrap(configuration: configuration, environment: [:])
}

/// swift-log to standard error, as text or as one JSON object per line.
func makeLogger(_ settings: BridgeConfiguration.Log) -> Logger {
    let level = Logger.Level(rawValue: settings.level) ?? .info
    let format = settings.format
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : TextLogHandler(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "cibridge")
}
