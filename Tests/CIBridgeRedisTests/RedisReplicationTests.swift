import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Testing

/// `redis.min_replicas`: a record counts as delivered only when `WAIT` says
/// that many replicas have it; a real primary and replica on loopback.
@Suite("Redis min_replicas (WAIT)", .serialized)
struct RedisReplicationTests {
    /// Waits until `primary` reports `count` connected, caught-up replicas.
    func waitForReplicas(_ primary: RedisServer, _ count: Int, seconds: Double = 10) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let info = (try? primary.cli(["INFO", "replication"])) ?? ""
            if info.contains("connected_slaves:\(count)") && (count == 0 || info.contains("state=online")) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("Acknowledged only once a replica has it: with the replica down records wait, and arrive once it is back")
    func waitsForReplica() async throws {
        let primary = try RedisServer()
        let replica = try RedisServer(["--replicaof", "127.0.0.1", String(primary.port)])
        defer { replica.stop() }
        #expect(try await waitForReplicas(primary, 1))
        let bed = try RedisTestbed(server: primary, minReplicas: 1, replicaTimeout: .milliseconds(200))
        defer { bed.remove() }

        let first = try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 5)
        try await bed.append(first)
        #expect(try await bed.waitUntilDelivered())
        // Acknowledged means the replica has them.
        let onReplica = try (0..<4).map { Int(try replica.cli(["XLEN", "ci:task-finish:\($0)"])) ?? 0 }.reduce(0, +)
        #expect(onReplica == first.count)

        // Replica gone: writes still reach the primary, but nothing is acknowledged.
        replica.kill()
        #expect(try await waitForReplicas(primary, 0))
        let second = try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 5, workflowPrefix: "later-")
        try await bed.append(second)
        // Each attempt waits for WAIT's 200 ms, finds no replica and is retried; wait for some.
        let deadline = ContinuousClock.now + .seconds(20)
        while bed.sink.statistics.retried < second.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(bed.sink.statistics.retried >= second.count)
        #expect(bed.outbox.status().sinks[0].pending == second.count, "acknowledged without a replica")

        // Back: it resynchronises; the retries find their entries (deduplicated), and WAIT confirms them.
        try replica.start()
        #expect(try await waitForReplicas(primary, 1))
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let total = try (0..<4).map { Int(try replica.cli(["XLEN", "ci:task-finish:\($0)"])) ?? 0 }.reduce(0, +)
        #expect(total == first.count + second.count, "each envelope once on the replica")
        let ids = try (0..<4).flatMap { try bed.envelopes(in: "ci:task-finish:\($0)") }.compactMap { EnvelopeFields(json: Array($0.utf8))?["id"] }
        #expect(Set(ids).count == ids.count)
    }
}
