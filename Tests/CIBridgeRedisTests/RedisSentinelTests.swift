import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging
import Testing

/// `redis-sentinel://`: the sink finds the primary through real sentinels, and
/// after a failover finds the new one, without a restart.
@Suite("Redis through Sentinel", .serialized)
struct RedisSentinelTests {
    /// Every id in the topic streams of `server`, each once (duplicates are an error).
    func ids(on server: RedisServer) throws -> Set<String> {
        var seen: [String] = []
        for shard in 0..<4 {
            let reply = try RedisConnection(url: RedisURL(server.url)).command(["XRANGE", "ci:task-finish:\(shard)", "-", "+"].map { Array($0.utf8) })
            guard case .array(let entries) = reply else { continue }
            for entry in entries {
                guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else { continue }
                if let index = fields.firstIndex(where: { $0.text == "id" }), index + 1 < fields.count, let id = fields[index + 1].text {
                    seen.append(id)
                }
            }
        }
        #expect(Set(seen).count == seen.count, "an envelope twice in the streams")
        return Set(seen)
    }

    /// The fault before the kill: the link between primary and replica breaks
    /// (the replica stopped with SIGSTOP, the primary's replication connection
    /// dropped, as in a partition), while the primary goes on acknowledging
    /// writes. Killing the primary then, and waking the replica to be
    /// promoted, loses what the primary acknowledged during the break. On
    /// loopback without a break, a replica is never more than a socket buffer
    /// behind, and a failover has nothing to lose.
    static func partition(_ replica: RedisServer, primary: RedisServer) throws {
        replica.pause()
        try primary.cli(["CLIENT", "KILL", "TYPE", "replica"])
    }

    /// Appends `total` envelopes in batches of 20 every 10 ms (about 2 000 a
    /// second); each fault runs once `after` envelopes have been appended, and
    /// the appending goes on. Returns the envelopes.
    func load(_ bed: RedisTestbed, total: Int, faults: [(after: Int, run: () throws -> Void)]) async throws -> [Envelope] {
        let envelopes = try TestFixtures.workflowEnvelopes(workflows: 50, jobsEach: total / 50, workflowPrefix: "sentinel-")
        try await bed.append(envelopes, batch: 20, pause: .milliseconds(10), faults: faults)
        return envelopes
    }

    @Test("min_replicas 1: the primary killed under load, a replica promoted, delivery resumes; nothing acknowledged is missing on the new primary")
    func failoverWithWait() async throws {
        // Two replicas: after the failover the new primary still has one for WAIT to count.
        let set = try RedisSentinelSet(replicas: 2)
        defer { set.stop() }
        let old = try #require(try set.primary())
        let lines = LogCapture()
        var logger = Logger(label: "test.redis") { _ in lines }
        logger.logLevel = .info
        let bed = try RedisTestbed(
            server: old, url: set.url, workflowStreams: false, minReplicas: 1, replicaTimeout: .milliseconds(300), logger: logger)
        defer { bed.temporary.remove() }
        // The same fault as without WAIT: the replicas cut off for about 300 ms, then the primary killed.
        let replicas = set.servers.filter { $0.port != old.port }
        var acknowledgedAtKill: UInt64 = 0
        let sent = try await load(
            bed, total: 3000,
            faults: [
                (600, { for replica in replicas { try Self.partition(replica, primary: old) } }),
                (1200, {
                    old.kill()
                    acknowledgedAtKill = UInt64(bed.sink.statistics.delivered)
                    for replica in replicas { replica.resume() }
                }),
            ])
        #expect(set.waitForFailover(from: old.port), "no failover")
        #expect(try await bed.waitUntilDelivered(seconds: 60), "delivery did not resume: \(lines.lines.suffix(5))")
        await bed.stop()
        let primary = try #require(try set.primary())
        #expect(primary.port != old.port)
        let present = try ids(on: primary)
        let missing = Set(sent.map(\.id)).subtracting(present)
        #expect(missing.isEmpty, "\(missing.count) acknowledged envelopes missing on the new primary")
        print("redis failover with min_replicas 1, after a partition of about 300 ms: \(missing.count) of \(acknowledgedAtKill) envelopes acknowledged before the kill are not on the new primary")
        #expect(lines.lines.contains { $0.contains("redis primary located") && $0.contains("\(primary.port)") }, "\(lines.lines.suffix(5))")
    }

    @Test("min_replicas 0: the same failover; what the new primary lacks of what was acknowledged is measured and reported")
    func failoverWithoutWait() async throws {
        let set = try RedisSentinelSet()
        defer { set.stop() }
        let old = try #require(try set.primary())
        let bed = try RedisTestbed(server: old, url: set.url, workflowStreams: false)
        defer { bed.temporary.remove() }
        let replica = try #require(set.servers.first { $0.port != old.port })
        // Acknowledged before the kill: whatever the sink had confirmed at that moment.
        // The partition starts after 600 envelopes; about 300 ms (600 envelopes) later the primary dies.
        var acknowledgedAtKill: UInt64 = 0
        let sent = try await load(
            bed, total: 3000,
            faults: [
                (600, { try Self.partition(replica, primary: old) }),
                (1200, {
                    old.kill()
                    acknowledgedAtKill = UInt64(bed.sink.statistics.delivered)
                    replica.resume()
                }),
            ])
        #expect(acknowledgedAtKill > 0)
        #expect(set.waitForFailover(from: old.port), "no failover")
        #expect(try await bed.waitUntilDelivered(seconds: 60), "delivery did not resume after the failover")
        await bed.stop()
        let primary = try #require(try set.primary())
        // Every record was acknowledged in the end; one missing on the new primary was
        // acknowledged by the old one and never retried: lost in the failover.
        let lost = Set(sent.map(\.id)).subtracting(try ids(on: primary)).count
        // Not asserted to be zero: Redis replicates asynchronously, and this is what min_replicas 0 risks.
        print("redis failover with min_replicas 0, after a partition of about 300 ms: \(lost) of \(acknowledgedAtKill) envelopes acknowledged before the kill are not on the new primary")
        #expect(lost <= Int(acknowledgedAtKill))
    }

    @Test("A primary name the sentinels do not know, or no sentinel reachable: one clear line, records stay pending")
    func badTopologies() async throws {
        let set = try RedisSentinelSet()
        defer { set.stop() }
        for (url, expected) in [
            (set.url.replacingOccurrences(of: set.primaryName, with: "nobody"), "no sentinel knows a primary named 'nobody'"),
            ("redis-sentinel://127.0.0.1:\(RedisServer.freePort()),127.0.0.1:\(RedisServer.freePort())/x", "Connection refused"),
        ] {
            let lines = LogCapture()
            var logger = Logger(label: "test.redis") { _ in lines }
            logger.logLevel = .info
            let bed = try RedisTestbed(server: set.servers[0], url: url, workflowStreams: false, logger: logger)
            defer { bed.temporary.remove() }
            try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 2))
            try await Task.sleep(for: .seconds(1.5))
            #expect(bed.outbox.status().sinks[0].pending == 4)
            await bed.stop()
            let errors = lines.lines.filter { $0.hasPrefix("error") }
            #expect(errors.count == 1, "\(errors)")
            #expect(errors.first?.contains(expected) == true, "\(errors)")
            #expect(errors.first?.contains("\n") == false)
        }
    }
}
