import CIBridgeCore
import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Logging

/// A mock cluster, an outbox in a temporary directory and a running Kafka sink.
final class KafkaTestbed {
    let cluster: KafkaMockCluster
    /// Holds the outbox.
    let temporary: TemporaryDirectory
    let outbox: Outbox
    let sink: KafkaSink
    private var runner: Task<Void, any Error>?

    init(
        brokers: Int = 3, mode: KafkaSinkConfiguration.ContentMode = .structured, topics: KafkaTopicRouter = .standard,
        properties: [String: String] = [:], partitions: [String: Int] = [:],
        retry: RetryPolicy = RetryPolicy(baseMilliseconds: 50, maxMilliseconds: 500), startSink: Bool = true
    ) throws {
        cluster = try KafkaMockCluster(brokers: brokers)
        for (topic, count) in partitions { try cluster.createTopic(topic, partitions: count) }
        temporary = try TemporaryDirectory("kafka-test")
        outbox = try Outbox(directory: temporary.path, configuration: OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0, retry: retry))
        var logger = Logger(label: "test.kafka")
        logger.logLevel = .critical
        var settings = ["message.timeout.ms": "5000", "retry.backoff.ms": "50"]
        for (name, value) in properties { settings[name] = value }
        sink = try KafkaSink(
            outbox: outbox,
            configuration: KafkaSinkConfiguration(
                bootstrapServers: cluster.bootstrapServers, topics: topics, contentMode: mode, properties: settings,
                flushTimeout: .seconds(5)),
            logger: logger)
        if startSink { start() }
    }

    /// The outbox's directory.
    var directory: String { temporary.path }

    func start() {
        let sink = self.sink
        runner = Task { try await sink.run() }
    }

    /// Stops the sink (flushing) and closes the outbox.
    func stop() async {
        runner?.cancel()
        _ = try? await runner?.value
        runner = nil
        await outbox.close()
    }

    func remove() {
        temporary.remove()
    }

    /// Appends the envelopes of `body` (a callback fixture's bytes).
    @discardableResult
    func append(_ envelopes: [Envelope]) async throws -> [UInt64] {
        try await outbox.append(envelopes: envelopes)
    }

    /// Waits until the outbox has no record pending for the sink, or `seconds` pass.
    func waitUntilDelivered(seconds: Double = 20) async throws -> Bool {
        try await outbox.waitUntilDrained("kafka", seconds: seconds)
    }

    /// Every record of `topic`, read from the beginning by an independent consumer.
    func readAll(_ topic: String, expect count: Int, seconds: Double = 15) throws -> [KafkaRecord] {
        let consumer = try KafkaConsumer(brokers: cluster.bootstrapServers, topics: [topic], fromBeginning: true)
        var records: [KafkaRecord] = []
        let deadline = Date().addingTimeInterval(seconds)
        while records.count < count && Date() < deadline {
            if let record = try consumer.poll(timeoutMilliseconds: 200) { records.append(record) }
        }
        return records
    }

    /// The sum of high-water offsets over the partitions of `topic`: how many messages it holds.
    func highWater(_ topic: String) throws -> Int64 {
        let consumer = try KafkaConsumer(brokers: cluster.bootstrapServers, topics: [], fromBeginning: true)
        let partitions = try consumer.partitionCount(topic)
        var total: Int64 = 0
        for partition in 0..<partitions { total += try consumer.watermarks(topic, partition: partition).high }
        return total
    }
}
