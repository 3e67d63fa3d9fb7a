import CIBridgeOutbox
import Logging
import Synchronization

/// Publishes one outbox sink's records to Kafka.
///
/// Records leave the outbox in batches; each is produced with its outbox
/// sequence as the message opaque. The delivery report resolves it: persisted
/// → `ack`; a retriable error → `retry` with the outbox's backoff; a permanent
/// one (too large, invalid topic, not authorised) → the dead-letter log with
/// the broker's reason. A fatal producer error (possible with idempotence)
/// purges the producer — its messages come back as retriable — and starts a new one.
public final class KafkaSink: Sendable {
    public let configuration: KafkaSinkConfiguration
    let outbox: Outbox
    let logger: Logger
    /// Counters, for metrics and tests.
    public let statistics = KafkaSinkStatistics()
    private let fatal = Atomic<Bool>(false)
    private let connected = Atomic<Bool>(true)

    /// False after librdkafka reported every broker down, true again after the
    /// next delivery or metadata answer.
    public var isConnected: Bool { connected.load(ordering: .relaxed) }

    public init(outbox: Outbox, configuration: KafkaSinkConfiguration, logger: Logger) throws(KafkaError) {
        try configuration.topics.validate()
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
    }

    /// Publishes until the task is cancelled or the outbox closes, then flushes
    /// for up to ``KafkaSinkConfiguration/flushTimeout``; whatever is still
    /// unconfirmed stays pending in the outbox for the next start.
    public func run() async throws {
        var producer = try makeProducer()
        let sink = configuration.sinkName
        logger.info("kafka sink started", metadata: [
            "bootstrap.servers": "\(configuration.bootstrapServers)", "mode": "\(configuration.contentMode.rawValue)",
        ])
        do {
            for try await batch in outbox.batches(for: sink, limit: configuration.batchSize) {
                for record in batch {
                    let message = KafkaEnvelopeEncoding.message(for: record, topics: configuration.topics, mode: configuration.contentMode)
                    do {
                        try producer.produce(message, opaque: record.sequence)
                        statistics.produced.add(1, ordering: .relaxed)
                    } catch {
                        await resolveFailure(record.sequence, error)
                    }
                }
                if fatal.exchange(false, ordering: .acquiringAndReleasing) {
                    logger.warning("kafka producer had a fatal error: purging it and starting a new one")
                    producer.purge()
                    producer = try makeProducer()
                }
                if Task.isCancelled { break }
            }
        } catch {
            logger.error("kafka sink stopped", metadata: ["error": "\(error)"])
        }
        let left = await producer.flushOffPool(timeout: configuration.flushTimeout)
        if left > 0 {
            logger.warning("kafka sink stopped with messages unconfirmed; they stay in the outbox", metadata: ["count": "\(left)"])
            producer.purge()
        }
        logger.info("kafka sink stopped")
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
            logger.info("kafka brokers reachable again")
            outbox.expediteRetries(configuration.sinkName)
        }
    }

    /// A delivery report (on the producer's poll thread).
    private func delivered(_ report: KafkaDeliveryReport) {
        guard let error = report.error else {
            logger.trace("kafka delivered", metadata: [
                "sequence": "\(report.opaque)", "partition": "\(report.partition)", "offset": "\(report.offset)",
            ])
            outbox.ack(configuration.sinkName, report.opaque)
            statistics.delivered.add(1, ordering: .relaxed)
            return
        }
        if error.isRetriable {
            outbox.retry(configuration.sinkName, report.opaque)
            statistics.retried.add(1, ordering: .relaxed)
        } else {
            let outbox = self.outbox
            let sink = configuration.sinkName
            let logger = self.logger
            statistics.deadLettered.add(1, ordering: .relaxed)
            Task {
                do {
                    try await outbox.deadLetter(sink, report.opaque, reason: error.description)
                } catch {
                    logger.error("cannot write dead letter; the record will be retried", metadata: ["error": "\(error)"])
                    outbox.retry(sink, report.opaque)
                }
            }
        }
    }

    /// `produce` refused a record at once.
    private func resolveFailure(_ sequence: UInt64, _ error: KafkaError) async {
        let sink = configuration.sinkName
        if error.isRetriable {
            // A full local queue clears in milliseconds; anything else uses the backoff.
            let queueFull = error.name == "_QUEUE_FULL"
            outbox.retry(sink, sequence, after: queueFull ? 20 : nil)
            statistics.retried.add(1, ordering: .relaxed)
        } else {
            statistics.deadLettered.add(1, ordering: .relaxed)
            do {
                try await outbox.deadLetter(sink, sequence, reason: error.description)
            } catch {
                outbox.retry(sink, sequence)
            }
        }
    }
}

/// What a Kafka sink has done since it started.
public final class KafkaSinkStatistics: Sendable {
    public let produced = Atomic<Int>(0)
    public let delivered = Atomic<Int>(0)
    public let retried = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
}
