import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Testing

@Suite("Redis sink against redis-server", .serialized)
struct RedisSinkTests {
    @Test("Envelopes arrive intact, one stream per workflow, in order, with flat fields")
    func delivery() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 5, jobsEach: 4)
        try await bed.append(sent)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        for workflow in 0..<5 {
            let stream = try bed.envelopes(in: "ci:wf:wf-\(workflow)")
            let expected = sent.filter { $0.partitionKey == "wf-\(workflow)" }.map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
            #expect(stream == expected)
        }
        let entry = try bed.server.cli(["XREVRANGE", "ci:wf:wf-0", "+", "-", "COUNT", "1"])
        #expect(entry.contains("com.tencentcloud.ci.task.finish"))
        #expect(entry.contains("input/demo.mp4"))
        #expect(entry.contains("2022-06-30T15:29:48+08:00"))
    }

    @Test("Trace context is a field of the entry (empty when the record has none); the envelope field is unchanged")
    func traceFields() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 2)
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
        try await bed.outbox.append([OutboxEntry(envelope: sent[0], traceparent: traceparent, tracestate: "lb=7f")])
        try await bed.outbox.append([OutboxEntry(envelope: sent[1])])
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let entries = try bed.server.cli(["XRANGE", "ci:wf:wf-0", "-", "+"]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let traced = try #require(entries.firstIndex(of: "traceparent"))
        #expect(entries[traced + 1] == traceparent)
        #expect(entries[traced + 2] == "tracestate" && entries[traced + 3] == "lb=7f")
        let untraced = try #require(entries.lastIndex(of: "traceparent"))
        #expect(untraced != traced && entries[untraced + 1] == "")
        #expect(try bed.envelopes(in: "ci:wf:wf-0") == sent.map { String(decoding: $0.jsonBytes(), as: UTF8.self) })
    }

    @Test("Jobs outside a workflow go to their queue's stream")
    func fallbackStream() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CIBridgeCoreTests/Fixtures/seed/case1-task-api.xml")
        try await bed.append(EnvelopeBuilder().envelopes(for: CallbackDecoder().decode([UInt8](try Data(contentsOf: url)))))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(try bed.envelopes(in: "ci:jobs:p2242ab62c7c94486915508540933a2c6").count == 1)
    }

    @Test("MAXLEN ~ trims each stream")
    func trimming() async throws {
        let bed = try RedisTestbed(server: try RedisServer(["--stream-node-max-entries", "10"]), maxLength: 20)
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 200))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let length = Int(try bed.server.cli(["XLEN", "ci:wf:wf-0"])) ?? -1
        #expect(length >= 20 && length <= 40)
    }

    @Test("A replay inside the dedupe window adds no second entry")
    func dedupeOnReplay() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 3, jobsEach: 3))
        #expect(try await bed.waitUntilDelivered())
        try await bed.outbox.rewind("redis", toSequence: 1)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(bed.sink.statistics.duplicates == 9)
        for workflow in 0..<3 { #expect(try bed.envelopes(in: "ci:wf:wf-\(workflow)").count == 3) }
        let ttl = Int(try bed.server.cli(["TTL", "cibridge:dedupe:" + (try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1)[0].id)])) ?? 0
        #expect(ttl > 86_000)
    }

    @Test("WRONGTYPE at the stream key goes to the dead-letter log with the reason; others flow")
    func wrongType() async throws {
        let server = try RedisServer()
        try server.cli(["SET", "ci:wf:wf-1", "not a stream"])
        let bed = try RedisTestbed(server: server)
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 3, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let dead = try bed.outbox.deadLetters(for: "redis")
        #expect(dead.count == 1)
        #expect(dead.first?.record.key == "wf-1")
        #expect(dead.first?.reason.hasPrefix("WRONGTYPE") == true)
        #expect(try bed.envelopes(in: "ci:wf:wf-0").count == 1)
        #expect(try bed.envelopes(in: "ci:wf:wf-2").count == 1)
        // The dedupe key was released: after fixing the key, a requeue delivers it.
        try server.cli(["DEL", "ci:wf:wf-1"])
        let reopened = try Outbox(directory: bed.directory, configuration: OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0))
        #expect(try await reopened.requeue("redis").count == 1)
        await reopened.close()
    }

    @Test("Every envelope goes to its topic's shard, by CRC-32 of its partition key, and to its workflow stream: the same bytes, in order")
    func topicStreams() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 12, jobsEach: 5)
        try await bed.append(sent)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        let shards = try bed.topicEnvelopes(.taskFinish)
        #expect(shards.map(\.count).reduce(0, +) == sent.count)
        #expect(shards.filter { !$0.isEmpty }.count > 1, "12 workflows all in one of 4 shards")
        for workflow in 0..<12 {
            let key = "wf-\(workflow)"
            let expected = sent.filter { $0.partitionKey == key }.map { String(decoding: $0.jsonBytes(), as: UTF8.self) }
            let shard = TopicShard.of(partitionKey: key.utf8, count: 4)
            #expect(shards[shard].filter { $0.contains("\"partitionkey\":\"\(key)\"") } == expected, "\(key) in shard \(shard)")
            #expect(try bed.envelopes(in: "ci:wf:\(key)") == expected)
        }
        // Other types to their own topics.
        #expect(try bed.topicEnvelopes(.workflowFinish).allSatisfy(\.isEmpty))
    }

    @Test("Topic streams only, or workflow streams only, as configured; one shard is ci:<topic>:0")
    func layouts() async throws {
        let sent = try TestFixtures.workflowEnvelopes(workflows: 3, jobsEach: 2)
        let topicsOnly = try RedisTestbed(workflowStreams: false, shards: 1)
        defer { topicsOnly.remove() }
        try await topicsOnly.append(sent)
        #expect(try await topicsOnly.waitUntilDelivered())
        await topicsOnly.stop()
        #expect(try topicsOnly.envelopes(in: "ci:task-finish:0").count == sent.count)
        #expect(try topicsOnly.server.cli(["EXISTS", "ci:wf:wf-0"]) == "0")

        let workflowsOnly = try RedisTestbed(topicStreams: false)
        defer { workflowsOnly.remove() }
        try await workflowsOnly.append(sent)
        #expect(try await workflowsOnly.waitUntilDelivered())
        await workflowsOnly.stop()
        #expect(try workflowsOnly.envelopes(in: "ci:wf:wf-0").count == 2)
        #expect(try workflowsOnly.server.cli(["KEYS", "ci:task-finish:*"]) == "")
    }

    @Test("Both streams or neither: a WRONGTYPE workflow stream leaves no entry in the topic stream, and no dedupe key")
    func bothOrNeither() async throws {
        let server = try RedisServer()
        try server.cli(["SET", "ci:wf:wf-1", "not a stream"])
        let bed = try RedisTestbed(server: server, shards: 1)
        defer { bed.remove() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 3, jobsEach: 1)
        try await bed.append(sent)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(try bed.outbox.deadLetters(for: "redis").count == 1)
        let topic = try bed.envelopes(in: "ci:task-finish:0")
        #expect(topic.count == 2)
        #expect(!topic.contains { $0.contains("\"partitionkey\":\"wf-1\"") })
        let failed = try #require(sent.first { $0.partitionKey == "wf-1" })
        #expect(try server.cli(["EXISTS", "cibridge:dedupe:" + failed.id]) == "0")
    }

    @Test("A replay adds no second entry to the topic stream either")
    func topicDedupe() async throws {
        let bed = try RedisTestbed()
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 3))
        #expect(try await bed.waitUntilDelivered())
        try await bed.outbox.rewind("redis", toSequence: 1)
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(bed.sink.statistics.duplicates == 12)
        #expect(try bed.topicEnvelopes(.taskFinish).map(\.count).reduce(0, +) == 12)
    }
}
