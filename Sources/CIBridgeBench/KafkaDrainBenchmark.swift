import ArgumentParser
import CIBridgeConfiguration
import CIBridgeCore
import CIBridgeKafka
import CIBridgeOutbox
import Foundation
import Logging

struct KafkaDrainBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-drain",
        abstract: "Drain rate from a pre-filled outbox to librdkafka's mock cluster (envelopes/s)."
    )

    @Option(help: "Envelopes to pre-fill (the seed's case 2 with distinct workflow and job IDs).") var count = 100_000
    @Option(help: "Distinct workflow IDs (partition keys).") var workflows = 1_000
    @Option(help: "Partitions of ci.task-finish.") var partitions = 12
    @Option(help: "structured or binary.") var mode = "structured"
    @Option(help: "Directory for the outbox (removed afterwards).") var directory: String?
    @Option(help: "Directory holding case2-workflow.xml.") var fixtures = "Tests/CIBridgeCoreTests/Fixtures/seed"

    func run() async throws {
        let base = directory ?? FileManager.default.currentDirectoryPath + "/.bench-kafka-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let template = try String(contentsOfFile: fixtures + "/case2-workflow.xml", encoding: .utf8)
        let outbox = try Outbox(directory: base, configuration: OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0))

        // Fill: one envelope per workflow, appended in turn (the drain does not care
        // whether envelopes repeat; the decoder has its own benchmark).
        let fillStart = ContinuousClock.now
        var distinct: [OutboxEntry] = []
        for workflow in 0..<workflows {
            let body = template
                .replacingOccurrences(of: "web6ac56c1ef54dbfa44d7f4103203be9", with: "wf-\(workflow)")
                .replacingOccurrences(of: "j6842765cf84611ecb8546d80f2baf56f", with: "job-\(workflow)")
            let envelope = EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(Array(body.utf8)))[0]
            distinct.append(OutboxEntry(envelope: envelope))
        }
        var entries: [OutboxEntry] = []
        var payloadBytes = 0
        for n in 0..<count {
            let entry = distinct[n % workflows]
            payloadBytes += entry.payload.count
            entries.append(entry)
            if entries.count == 1000 {
                _ = try await outbox.append(entries)
                entries = []
            }
        }
        if !entries.isEmpty { _ = try await outbox.append(entries) }
        let fillSeconds = (ContinuousClock.now - fillStart).seconds

        let cluster = try KafkaMockCluster(brokers: 3)
        try cluster.createTopic("ci.task-finish", partitions: partitions)
        var logger = Logger(label: "bench.kafka")
        logger.logLevel = .error
        var configuration = BridgeConfiguration()
        configuration.kafka = BridgeConfiguration.Kafka(brokers: cluster.bootstrapServers)
        configuration.kafka?.contentMode = KafkaSinkConfiguration.ContentMode(rawValue: mode) ?? .structured
        let sink = try SinkFactory(configuration: configuration, logger: logger).makeSink(.kafka, outbox: outbox)
        print("kafka drain benchmark: \(count) envelopes (\(payloadBytes / count) bytes each), \(workflows) workflows, \(partitions) partitions, mode \(mode), 3 mock brokers")
        print(String(format: "outbox filled in %.1f s", fillSeconds))
        let start = ContinuousClock.now
        let runner = Task { try await sink.run() }
        var firstDelivery: ContinuousClock.Instant?
        var deliveredAtFirst = 0
        while outbox.status().sinks[0].pending > 0 {
            try await Task.sleep(for: .milliseconds(2))
            if firstDelivery == nil {
                let delivered = sink.statistics.delivered
                if delivered > 0 {
                    firstDelivery = ContinuousClock.now
                    deliveredAtFirst = delivered
                }
            }
            if (ContinuousClock.now - start) > .seconds(300) { break }
        }
        let end = ContinuousClock.now
        let seconds = (end - start).seconds
        let steadySeconds = (end - (firstDelivery ?? start)).seconds
        runner.cancel()
        _ = try? await runner.value
        await outbox.close()

        let consumer = try KafkaConsumer(brokers: cluster.bootstrapServers, topics: [])
        var delivered: Int64 = 0
        for partition in 0..<Int32(partitions) { delivered += try consumer.watermarks("ci.task-finish", partition: partition).high }
        let rate = Double(count - deliveredAtFirst) / steadySeconds
        print(String(format: "producer start-up (connect, metadata, idempotent producer id) until the first delivery: %.2f s", seconds - steadySeconds))
        print(String(format: "drained %d envelopes in %.2f s after that: %.0f envelopes/s (%.1f MB/s of payload); %.0f/s including start-up", count, steadySeconds, rate, rate * Double(payloadBytes / count) / 1e6, Double(count) / seconds))
        print("high-water offsets sum: \(delivered) (>= \(count) expected; more means retried duplicates)")
        print("retried: \(sink.statistics.retried), dead-lettered: \(sink.statistics.deadLettered)")
        print("target: >= 100000 envelopes/s: \(rate >= 100_000 ? "met" : "NOT met") (\(String(format: "%.2f", rate / 100_000))x)")
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
