import CIBridgeOutbox
import Logging
import Synchronization

/// Publishes one outbox sink's records to Redis streams.
///
/// Each batch from the outbox goes out as one pipeline of script calls (see
/// ``RedisStreamScript``): a record is acknowledged in the outbox only after
/// Redis answered with its new stream entry, or said it was a duplicate within
/// the dedupe window. Retriable failures (connection loss, timeouts, `LOADING`,
/// `BUSY`, `OOM`, …) go back to the outbox with backoff; `WRONGTYPE` at the
/// stream key goes to the dead-letter log with Redis's reason.
public final class RedisSink: Sendable {
    public let configuration: RedisSinkConfiguration
    let outbox: Outbox
    let logger: Logger
    let publisher: RedisPublisher
    public let statistics = RedisSinkStatistics()

    public init(outbox: Outbox, configuration: RedisSinkConfiguration, logger: Logger) throws(RedisError) {
        try configuration.validate()
        self.outbox = outbox
        self.configuration = configuration
        self.logger = logger
        self.publisher = RedisPublisher(configuration: configuration, logger: logger)
    }

    /// Publishes until the task is cancelled or the outbox closes.
    public func run() async throws {
        let sink = configuration.sinkName
        logger.info("redis sink started", metadata: ["url": "\(configuration.url)"])
        for try await batch in outbox.batches(for: sink, limit: configuration.batchSize) {
            let outcomes = await publisher.publish(batch)
            for (record, outcome) in zip(batch, outcomes) {
                switch outcome {
                case .added:
                    outbox.ack(sink, record.sequence)
                    statistics.added.add(1, ordering: .relaxed)
                case .duplicate:
                    outbox.ack(sink, record.sequence)
                    statistics.duplicates.add(1, ordering: .relaxed)
                case .failed(let error) where error.isRetriable:
                    outbox.retry(sink, record.sequence)
                    statistics.retried.add(1, ordering: .relaxed)
                case .failed(let error):
                    statistics.deadLettered.add(1, ordering: .relaxed)
                    do {
                        try await outbox.deadLetter(sink, record.sequence, reason: error.message)
                    } catch {
                        outbox.retry(sink, record.sequence)
                    }
                }
            }
            if Task.isCancelled { break }
        }
        await publisher.disconnect()
        logger.info("redis sink stopped")
    }
}

/// What a Redis sink has done since it started.
public final class RedisSinkStatistics: Sendable {
    public let added = Atomic<Int>(0)
    public let duplicates = Atomic<Int>(0)
    public let retried = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
}
