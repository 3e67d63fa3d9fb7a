import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging
import Testing

/// `redis-cluster://`: the sink against a real cluster of 3 primaries and 3
/// replicas on loopback. Every acknowledged envelope must be in its topic
/// shard stream (`ci:<topic>:{n}`) exactly once.
@Suite("Redis Cluster", .serialized)
struct RedisClusterTests {
    static let shards = 16

    /// Every envelope id in the topic shard streams, read from the primary that owns each; each must be there once.
    func ids(in cluster: RedisClusterSet) throws -> Set<String> {
        var seen: [String] = []
        for topic in EventTopic.allCases {
            for shard in 0..<Self.shards {
                let stream = "ci:\(topic.name):{\(shard)}"
                guard let owner = try cluster.owner(of: stream) else {
                    Issue.record("no primary owns \(stream)")
                    continue
                }
                let reply = try RedisConnection(url: RedisURL(owner.url)).command(["XRANGE", stream, "-", "+"].map { Array($0.utf8) })
                guard case .array(let entries) = reply else { continue }
                for entry in entries {
                    guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1],
                        let index = fields.firstIndex(where: { $0.text == "id" }), index + 1 < fields.count, let id = fields[index + 1].text
                    else { continue }
                    seen.append(id)
                }
            }
        }
        #expect(Set(seen).count == seen.count, "an envelope twice in the streams")
        return Set(seen)
    }

    func testbed(_ cluster: RedisClusterSet, minReplicas: Int = 0, logger: Logger? = nil) throws -> RedisTestbed {
        try RedisTestbed(
            server: cluster.nodes[0], url: cluster.url, workflowStreams: false, shards: Self.shards, minReplicas: minReplicas,
            replicaTimeout: .milliseconds(500), logger: logger)
    }

    /// Appends `envelopes` in batches of 200, running each fault once its count has been appended.
    func load(_ bed: RedisTestbed, _ envelopes: [Envelope], faults: [(after: Int, run: () throws -> Void)] = []) async throws {
        try await bed.append(envelopes, batch: 200, pause: .milliseconds(5), faults: faults)
    }

    @Test("The fixtures and 20 000 envelopes of 200 workflows: each in its shard stream once, on the primary of its slot")
    func delivery() async throws {
        let cluster = try RedisClusterSet()
        defer { cluster.stop() }
        let lines = LogCapture()
        var logger = Logger(label: "test.redis") { _ in lines }
        logger.logLevel = .info
        let bed = try testbed(cluster, logger: logger)
        defer { bed.temporary.remove() }
        var sent: [Envelope] = []
        for fixture in ["seed/case1-task-api.xml", "seed/case2-workflow.xml", "callbacks/moderation-image-simple.json", "callbacks/workflow-finish.json"] {
            let bytes = [UInt8](try Data(contentsOf: TestFixtures.directory.appendingPathComponent(fixture)))
            sent += EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(bytes))
        }
        sent += try TestFixtures.workflowEnvelopes(workflows: 200, jobsEach: 100, workflowPrefix: "cluster-")
        try await load(bed, sent)
        #expect(try await bed.waitUntilDelivered(seconds: 90))
        await bed.stop()
        #expect(try ids(in: cluster) == Set(sent.map(\.id)))
        // The shards are spread over the primaries, and the slot map was logged once.
        let owners = Set(try (0..<Self.shards).compactMap { try cluster.owner(of: "ci:task-finish:{\($0)}")?.port })
        #expect(owners.count == 3)
        #expect(lines.lines.filter { $0.contains("redis cluster slot map") }.count == 1, "\(lines.lines)")
    }

    @Test("Slots migrated under load (MOVED and ASK): nothing lost, nothing twice")
    func resharding() async throws {
        let cluster = try RedisClusterSet()
        defer { cluster.stop() }
        let bed = try testbed(cluster)
        defer { bed.temporary.remove() }
        let primaries = cluster.primaries()
        let from = try cluster.id(of: primaries[0])
        let to = try cluster.id(of: primaries[1])
        let sent = try TestFixtures.workflowEnvelopes(workflows: 200, jobsEach: 50, workflowPrefix: "reshard-")
        var reshard: ChildProcess.Result?
        try await load(
            bed, sent,
            faults: [
                (2_000, {
                    reshard = try ChildProcess.run(
                        "/usr/bin/redis-cli",
                        ["--cluster", "reshard", "127.0.0.1:\(primaries[0].port)", "--cluster-from", from, "--cluster-to", to,
                         "--cluster-slots", "5461", "--cluster-yes", "--cluster-pipeline", "10"],
                        timeout: 120)
                })
            ])
        #expect(reshard?.status == 0, "\(reshard?.stderr ?? "")")
        #expect(try await bed.waitUntilDelivered(seconds: 90))
        await bed.stop()
        #expect(try ids(in: cluster) == Set(sent.map(\.id)))
        // Every slot left the first primary.
        #expect(try (0..<Self.shards).allSatisfy { try cluster.owner(of: "ci:task-finish:{\($0)}")?.port != primaries[0].port })
    }

    @Test("A primary killed under load with min_replicas 1: its replica takes over, delivery resumes, nothing pending or missing")
    func failover() async throws {
        let cluster = try RedisClusterSet()
        defer { cluster.stop() }
        let bed = try testbed(cluster, minReplicas: 1)
        defer { bed.temporary.remove() }
        let victim = cluster.primaries()[1]
        let sent = try TestFixtures.workflowEnvelopes(workflows: 200, jobsEach: 30, workflowPrefix: "failover-")
        try await load(bed, sent, faults: [(2_000, { victim.kill() })])
        // The replica is promoted; the old primary, back, becomes its replica, so WAIT 1 can count again.
        try await Task.sleep(for: .seconds(3))
        try victim.start()
        #expect(cluster.waitUntilHealthy(seconds: 30))
        #expect(try await bed.waitUntilDelivered(seconds: 90))
        #expect(bed.outbox.status().sinks[0].pending == 0)
        await bed.stop()
        #expect(try ids(in: cluster) == Set(sent.map(\.id)))
    }

    @Test("A slot half migrated: ASK is followed with ASKING, the importing node answers TRYAGAIN (a script creating several keys), and the records arrive once the migration completes")
    func ask() async throws {
        let cluster = try RedisClusterSet()
        defer { cluster.stop() }
        let stream = "ci:task-finish:{0}"
        let slot = try cluster.nodes[0].cli(["CLUSTER", "KEYSLOT", stream])
        let source = try #require(try cluster.owner(of: stream))
        let target = try #require(cluster.primaries().first { $0.port != source.port })
        let targetID = try cluster.id(of: target)
        // New keys of the slot now belong to the target, which takes them only after ASKING;
        // a script that creates several keys there gets TRYAGAIN until the slot has moved.
        try target.cli(["CLUSTER", "SETSLOT", slot, "IMPORTING", try cluster.id(of: source)])
        try source.cli(["CLUSTER", "SETSLOT", slot, "MIGRATING", targetID])
        let bed = try testbed(cluster)
        defer { bed.temporary.remove() }
        let all = try TestFixtures.workflowEnvelopes(workflows: 160, jobsEach: 1, workflowPrefix: "ask-")
        let sent = all.filter { TopicShard.of(partitionKey: $0.partitionKey.utf8, count: Self.shards) == 0 }
        #expect(!sent.isEmpty)
        try await bed.append(sent)
        try await Task.sleep(for: .seconds(1.5))
        #expect(bed.outbox.status().sinks[0].pending == sent.count, "written during the migration")
        #expect(bed.sink.statistics.retried > 0)
        // The source's ASK was followed: the target was sent ASKING.
        #expect(try target.cli(["INFO", "commandstats"]).contains("cmdstat_asking:calls="), "no ASKING reached the importing node")
        // The migration completes: the slot is the target's (MOVED from the source from now on).
        for node in cluster.primaries() { try node.cli(["CLUSTER", "SETSLOT", slot, "NODE", targetID]) }
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        #expect(try target.cli(["XLEN", stream]) == String(sent.count))
        #expect(try source.cli(["EXISTS", stream]).contains("MOVED"), "the source no longer serves the slot")
    }

    @Test("Seeds that are not a cluster: one clear line, records stay pending")
    func notACluster() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let lines = LogCapture()
        var logger = Logger(label: "test.redis") { _ in lines }
        logger.logLevel = .info
        let bed = try RedisTestbed(
            server: server, url: "redis-cluster://127.0.0.1:\(server.port)", workflowStreams: false, logger: logger)
        defer { bed.temporary.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 2))
        try await Task.sleep(for: .seconds(1.5))
        #expect(bed.outbox.status().sinks[0].pending == 4)
        await bed.stop()
        let errors = lines.lines.filter { $0.hasPrefix("error") }
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.contains("cluster support disabled") == true, "\(errors)")
    }
}
