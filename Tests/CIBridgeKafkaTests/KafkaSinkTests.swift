import CIBridgeCore
import CIBridgeKafka
import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Testing

@Suite("Kafka sink against the mock cluster", .serialized)
struct KafkaSinkTests {
    @Test("Every envelope arrives intact; each workflow's events are in one partition, in order")
    func deliveryAndOrder() async throws {
        let bed = try KafkaTestbed(partitions: ["ci.task-finish": 6])
        defer { bed.remove() }
        let envelopes = try TestFixtures.workflowEnvelopes(workflows: 12, jobsEach: 5)
        try await bed.append(envelopes)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()

        #expect(try bed.highWater("ci.task-finish") == 60)
        let records = try bed.readAll("ci.task-finish", expect: 60)
        #expect(records.count == 60)
        let sent = Set(envelopes.map { $0.jsonBytes() })
        #expect(Set(records.map(\.value)) == sent)
        #expect(records.allSatisfy { $0.header("content-type") == Array("application/cloudevents+json".utf8) })
        var partitionOf: [String: Int32] = [:]
        var lastJob: [String: Int] = [:]
        for record in records.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let key = String(decoding: record.key, as: UTF8.self)
            #expect(partitionOf[key, default: record.partition] == record.partition, "\(key) spread over partitions")
            partitionOf[key] = record.partition
            let job = Int(EnvelopeFields(json: record.value)!["jobid"]!.split(separator: "-").last!)!
            #expect(job > lastJob[key, default: -1], "\(key) out of order")
            lastJob[key] = job
        }
        #expect(Set(partitionOf.values).count > 1)
    }
}

@Suite("Kafka sink: routing, modes and faults", .serialized)
struct KafkaSinkFaultTests {
    func envelopes(_ fixture: String) throws -> [Envelope] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CIBridgeCoreTests/Fixtures/" + fixture)
        return EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode([UInt8](try Data(contentsOf: url))))
    }

    @Test("Topics by type, with the documented defaults and templates over attributes")
    func routing() async throws {
        let router = try KafkaTopicRouter(
            byType: [EventType.taskFinish: "ci.{tag}.done", EventType.workflowFinish: "ci.workflow-finish"], fallback: "ci.events")
        let bed = try KafkaTestbed(topics: router)
        defer { bed.remove() }
        try await bed.append(try envelopes("seed/case1-task-api.xml"))
        try await bed.append(try envelopes("shapes/workflow-finish.xml"))
        try await bed.append(try envelopes("callbacks/moderation-image-detail.json"))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(try bed.highWater("ci.SmartCover.done") == 1)
        #expect(try bed.highWater("ci.workflow-finish") == 1)
        #expect(try bed.highWater("ci.events") == 1)

        #expect(KafkaTopicRouter.standard.topic(for: nil) == "ci.events")
        for type in EventType.moderation {
            #expect(KafkaTopicRouter.standard.topic { $0 == "type" ? type : nil } == "ci.moderation")
        }
        #expect(throws: TemplateError.self) { try KafkaTopicRouter(byType: [:], fallback: "bad topic!") }
        #expect(throws: TemplateError.self) { try KafkaTopicRouter(byType: [:], fallback: "ci.{tag") }
    }

    @Test("Binary content mode: ce_* headers and data; the consumer rebuilds the same envelope")
    func binaryMode() async throws {
        let bed = try KafkaTestbed(mode: .binary)
        defer { bed.remove() }
        let sent = try envelopes("seed/case2-workflow.xml")
        try await bed.append(sent)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let record = try #require(try bed.readAll("ci.task-finish", expect: 1).first)
        #expect(record.header("ce_id") == Array(sent[0].id.utf8))
        #expect(record.header("ce_type") == Array("com.tencentcloud.ci.task.finish".utf8))
        #expect(record.header("content-type") == Array("application/json".utf8))
        #expect(record.value == sent[0].dataJSON)
        #expect(record.envelope == sent[0].jsonBytes())
    }

    @Test("Trace context travels as traceparent/tracestate headers in both modes, never as a ce_ attribute or in the value",
          arguments: [KafkaSinkConfiguration.ContentMode.structured, .binary])
    func traceHeaders(mode: KafkaSinkConfiguration.ContentMode) async throws {
        let bed = try KafkaTestbed(mode: mode)
        defer { bed.remove() }
        let sent = try envelopes("seed/case2-workflow.xml")
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
        try await bed.outbox.append([OutboxEntry(envelope: sent[0], traceparent: traceparent, tracestate: "lb=7f")])
        try await bed.outbox.append([OutboxEntry(envelope: sent[0])])
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let records = try bed.readAll("ci.task-finish", expect: 2).sorted { $0.offset < $1.offset }
        #expect(records.count == 2)
        #expect(records.first?.header("traceparent") == Array(traceparent.utf8))
        #expect(records.first?.header("tracestate") == Array("lb=7f".utf8))
        #expect(records.last?.header("traceparent") == nil)
        #expect(records.allSatisfy { !$0.headers.contains { $0.name.hasPrefix("ce_trace") } })
        // The event is the same event, traced or not.
        #expect(records.first?.value == records.last?.value)
        #expect(records.first?.envelope == sent[0].jsonBytes())
    }

    @Test("All brokers down: records stay pending, are retried, and all arrive once they are back")
    func brokersDown() async throws {
        let bed = try KafkaTestbed(properties: ["message.timeout.ms": "1500"])
        defer { bed.remove() }
        // Warm up: topic and connections exist.
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        try bed.cluster.setAllBrokers(up: false)
        let sent = try TestFixtures.workflowEnvelopes(workflows: 10, jobsEach: 10).dropFirst()
        try await bed.append(Array(sent))
        try await Task.sleep(for: .seconds(3))
        #expect((bed.outbox.status().sinks.first?.pending ?? 0) == 99)
        #expect(bed.sink.statistics.retried > 0)
        try bed.cluster.setAllBrokers(up: true)
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let records = try bed.readAll("ci.task-finish", expect: 100)
        let ids = Set(records.compactMap { EnvelopeFields(json: $0.value)?["id"] })
        #expect(ids.count == 100)
    }

    @Test("Brokers back after an outage: delivery resumes within seconds, not at the next retry (a minute away)")
    func resumesWhenBrokersReturn() async throws {
        // Retries 30–60 s apart, as after a long outage; librdkafka gives messages up after 1 s.
        // The cluster is down from the start (a first delivery that failed would wait a minute).
        let bed = try KafkaTestbed(
            properties: ["message.timeout.ms": "1000"], retry: RetryPolicy(baseMilliseconds: 60_000, maxMilliseconds: 60_000),
            startSink: false)
        defer { bed.remove() }
        try bed.cluster.setAllBrokers(up: false)
        bed.start()
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 5))
        let started = Date()
        while (bed.sink.statistics.retried < 20 || bed.sink.isConnected) && Date().timeIntervalSince(started) < 15 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(bed.sink.statistics.retried == 20)
        #expect(!bed.sink.isConnected)
        try await Task.sleep(for: .seconds(1))  // the metadata probe keeps failing meanwhile
        try bed.cluster.setAllBrokers(up: true)
        let back = Date()
        #expect(try await bed.waitUntilDelivered(seconds: 15))
        let resumed = Date().timeIntervalSince(back)
        #expect(resumed < 4, "took \(resumed) s")
        #expect(bed.sink.isConnected)
        await bed.stop()
        let ids = Set(try bed.readAll("ci.task-finish", expect: 20).compactMap { EnvelopeFields(json: $0.value)?["id"] })
        #expect(ids.count == 20)
    }

    @Test("Injected retriable produce errors (leader change, timeouts) are retried until delivered")
    func retriableErrors() async throws {
        let bed = try KafkaTestbed()
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        bed.cluster.pushRequestErrors(apiKey: 0, Array(repeating: KafkaMockCluster.ErrorCode.notLeaderForPartition, count: 3)
            + Array(repeating: KafkaMockCluster.ErrorCode.notEnoughReplicas, count: 3))
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 5, jobsEach: 4))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        // Counted at the broker first (high-water offsets), then read back.
        #expect(try bed.highWater("ci.task-finish") >= 21)
        let ids = Set(try bed.readAll("ci.task-finish", expect: 21, seconds: 60).compactMap { EnvelopeFields(json: $0.value)?["id"] })
        #expect(ids.count == 20)  // the 20 distinct envelopes (the warm-up one is among them)
    }

    @Test("Permanent errors go to the dead-letter log with the reason; the rest flows on")
    func permanentErrors() async throws {
        let bed = try KafkaTestbed(properties: ["message.max.bytes": "2000"])
        defer { bed.remove() }
        var big = try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1)[0].jsonBytes()
        big += Array(repeating: UInt8(ascii: " "), count: 3000)
        _ = try await bed.outbox.append([OutboxEntry(key: "wf-big", payload: big)])
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 3, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let dead = try bed.outbox.deadLetters(for: "kafka")
        #expect(dead.count == 1)
        #expect(dead.first?.record.key == "wf-big")
        #expect(dead.first?.reason.contains("MSG_SIZE_TOO_LARGE") == true)
        #expect(try bed.highWater("ci.task-finish") == 3)
    }

    @Test("A broker refusing with TOPIC_AUTHORIZATION_FAILED dead-letters with the broker's reason")
    func brokerPermanentError() async throws {
        let bed = try KafkaTestbed()
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        bed.cluster.pushRequestErrors(apiKey: 0, [KafkaMockCluster.ErrorCode.topicAuthorizationFailed])
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 2).suffix(1))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let dead = try bed.outbox.deadLetters(for: "kafka")
        #expect(dead.count == 1)
        #expect(dead.first?.reason.contains("TOPIC_AUTHORIZATION_FAILED") == true)
    }

    @Test("Shutdown with unconfirmed messages leaves them pending for the next start")
    func shutdownLeavesPending() async throws {
        let bed = try KafkaTestbed()
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        try bed.cluster.setAllBrokers(up: false)
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 5).dropFirst().map { $0 })
        try await Task.sleep(for: .milliseconds(300))
        await bed.stop()
        let reopened = try Outbox(directory: bed.directory, configuration: OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0))
        #expect(reopened.status().sinks.first?.pending == 19)
        await reopened.close()
    }

    @Test("kcat reads back what cibridge produced, byte for byte")
    func kcatReadsBack() async throws {
        let bed = try KafkaTestbed()
        defer { bed.remove() }
        let sent = try envelopes("seed/case2-workflow.xml") + envelopes("shapes/unicode-keys.json")
        try await bed.append(sent)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let read = try ChildProcess.run(
            "/usr/bin/kcat", ["-C", "-b", bed.cluster.bootstrapServers, "-t", "ci.task-finish", "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n"])
        let lines = read.stdoutLines.sorted()
        let expected = sent.map { "\($0.partitionKey)\t" + String(decoding: $0.jsonBytes(), as: UTF8.self) }.sorted()
        #expect(lines == expected)
    }
}
