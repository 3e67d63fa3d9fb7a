import CIBridgeOutbox
import CIBridgeSinks
import Logging
import Synchronization

/// Publishes one outbox sink's records to Kafka.
///
/// Records leave the outbox in batches; each is produced with its outbox
/// sequence as the message opaque. The delivery report resolves it through
/// ``Outbox/resolve(_:_:_:)``: persisted → delivered; a retriable error →
/// retry with the outbox's backoff; a permanent one (too large, invalid topic,
/// not authorised) → the dead-letter log with the broker's reason. A fatal
/// producer error (possible with idempotence) purges the producer — its
/// messages come back as retriable — and starts a new one.
public final class KafkaSink: Sink {
    public let configuration: KafkaSinkConfiguration
    public let outbox: Outbox
    let logger: Logger
    /// Set by the poll thread, read by the sink's loop.
    private let fatal = Atomic<Bool>(false)
    /// Set by the poll thread, read by health checks.
    private let connected = Atomic<Bool>(true)
    /// The development mock cluster the sink publishes to, kept alive as long as it.
    private let embedded: KafkaMockCluster?

    public var name: String { configuration.sinkName }

    /// False after librdkafka reported every broker down, true again after the
    /// next delivery or metadata answer.
    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// - Parameter embedded: a mock cluster `configuration` points at, owned by the sink from now on.
    public init(outbox: Outbox, configuration: KafkaSinkConfiguration, logger: Logger, embedded: KafkaMockCluster? = nil) {
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
        self.embedded = embedded
    }

    /// Publishes until the task is cancelled or the outbox closes, then flushes
    /// for up to ``KafkaSinkConfiguration/flushTimeout``; whatever is still
    /// unconfirmed stays pending in the outbox for the next start.
    public func run() async throws {
        var producer = try makeProducer()
        logger.info("kafka sink started", metadata: [
            "sink": "\(name)", "bootstrap.servers": "\(configuration.bootstrapServers)",
            "mode": "\(configuration.contentMode.rawValue)",
        ])
        do {
            for try await batch in outbox.batches(for: name, limit: configuration.batchSize) {
                for record in batch {
                    let message = KafkaEnvelopeEncoding.message(for: record, topics: configuration.topics, mode: configuration.contentMode)
                    do {
                        try producer.produce(message, opaque: record.sequence)
                    } catch {
                        outbox.resolve(name, record.sequence, Self.outcome(of: error))
                    }
                }
                if fatal.exchange(false, ordering: .acquiringAndReleasing) {
                    logger.warning("kafka producer had a fatal error: purging it and starting a new one")
                    producer.purge()
                    await producer.shutdown()
                    producer = try makeProducer()
                }
                if Task.isCancelled { break }
            }
        } catch {
            logger.error("kafka sink stopped", metadata: ["sink": "\(name)", "error": "\(error)"])
        }
        let left = await producer.flushOffPool(timeout: configuration.flushTimeout)
        if left > 0 {
            logger.warning("kafka sink stopped with messages unconfirmed; they stay in the outbox", metadata: ["count": "\(left)"])
            producer.purge()
        }
        await producer.shutdown()
        logger.info("kafka sink stopped", metadata: ["sink": "\(name)"])
    }

    private func makeProducer() throws(KafkaError) -> KafkaProducer {
        try KafkaProducer(
            properties: configuration.effectiveProperties, logger: logger,
            onDelivery: { [weak self] report in self?.delivered(report) },
            onFatal: { [weak self] _ in self?.fatal.store(true, ordering: .releasing) },
            onConnectivity: { [weak self] up in self?.connectivity(up) })
    }

    /// The cluster became unreachable, or reachable again (on the poll thread).
    /// Back after an outage: every record waiting for its retry is due now —
    /// after a long outage its next retry may be a minute away.
    private func connectivity(_ up: Bool) {
        connected.store(up, ordering: .relaxed)
        if up {
            logger.info("kafka brokers reachable again", metadata: ["sink": "\(name)"])
            outbox.expediteRetries(name)
        }
    }

    /// A delivery report (on the producer's poll thread).
    private func delivered(_ report: KafkaDeliveryReport) {
        if report.error == nil {
            logger.trace("kafka delivered", metadata: [
                "sequence": "\(report.opaque)", "partition": "\(report.partition)", "offset": "\(report.offset)",
            ])
        }
        outbox.resolve(name, report.opaque, report.error.map(Self.outcome(of:)) ?? .delivered)
    }

    /// What a Kafka error means for the record.
    static func outcome(of error: KafkaError) -> DeliveryOutcome {
        error.isRetriable ? .retry(error.deliveryFailure) : .deadLetter(error.deliveryFailure)
    }
}
