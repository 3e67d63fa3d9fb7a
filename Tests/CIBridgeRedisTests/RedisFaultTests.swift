import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Redis sink under faults", .serialized)
struct RedisFaultTests {
    /// Every envelope id in the workflow streams, with how often it occurs.
    func idCounts(_ bed: RedisTestbed, workflows: Int, password: String? = nil) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for workflow in 0..<workflows {
            for envelope in try bed.envelopes(in: "ci:wf:wf-\(workflow)", password: password) {
                counts[EnvelopeFields(json: Array(envelope.utf8))?["id"] ?? "?", default: 0] += 1
            }
        }
        return counts
    }

    @Test("redis-server killed mid-stream and restarted: every record arrives exactly once")
    func killAndRestart() async throws {
        let server = try RedisServer(["--appendonly", "yes", "--appendfsync", "always"])
        let bed = try RedisTestbed(server: server)
        defer { bed.remove() }
        let entries = try TestFixtures.workflowEnvelopes(workflows: 10, jobsEach: 40).map { OutboxEntry(key: $0.partitionKey, payload: $0.jsonBytes()) }
        // The first half streams in; the kill comes while the sink is publishing it.
        for chunk in stride(from: 0, to: 200, by: 10) { _ = try await bed.outbox.append(Array(entries[chunk..<(chunk + 10)])) }
        let started = Date()
        while bed.sink.statistics.delivered < 20 && Date().timeIntervalSince(started) < 10 {
            try await Task.sleep(for: .milliseconds(1))
        }
        server.kill()
        // The second half arrives while Redis is down.
        for chunk in stride(from: 200, to: 400, by: 10) { _ = try await bed.outbox.append(Array(entries[chunk..<(chunk + 10)])) }
        try await Task.sleep(for: .milliseconds(500))
        try server.start()
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let counts = try idCounts(bed, workflows: 10)
        #expect(counts.count == 400)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(bed.sink.statistics.retried > 0)
    }

    @Test("A large pipeline written to a Redis that has died fails with an error; SIGPIPE does not kill the process")
    func brokenPipe() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let connection = try RedisConnection(url: RedisURL(server.url))
        #expect(try connection.command([Array("PING".utf8)]).text == "PONG")
        server.kill()
        // 16 MiB: far more than the socket buffers, so hiredis writes again after the reset.
        let value = [UInt8](repeating: 0x61, count: 1 << 20)
        let commands = (0..<16).map { index in [Array("SET".utf8), Array("k\(index)".utf8), value] }
        #expect(throws: RedisError.self) { try connection.pipeline(commands) }
    }

    @Test("Redis back after an outage: delivery resumes within a second, not at the next retry (a minute away)")
    func resumesWhenRedisReturns() async throws {
        let server = try RedisServer()
        // Retries 30–60 s apart, as after a long outage.
        let bed = try RedisTestbed(server: server, retry: RetryPolicy(baseMilliseconds: 60_000, maxMilliseconds: 60_000))
        defer { bed.remove() }
        server.kill()
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 5, jobsEach: 20))
        let started = Date()
        while bed.sink.statistics.retried < 100 && Date().timeIntervalSince(started) < 10 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(bed.sink.statistics.retried == 100)
        #expect(!bed.sink.isConnected)
        try await Task.sleep(for: .milliseconds(1500))  // the probe keeps failing meanwhile
        try server.start()
        let back = Date()
        #expect(try await bed.waitUntilDelivered(seconds: 10))
        let resumed = Date().timeIntervalSince(back)
        #expect(resumed < 3, "took \(resumed) s")
        #expect(bed.sink.isConnected)
        await bed.stop()
        let counts = try idCounts(bed, workflows: 5)
        #expect(counts.count == 100)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test("CLIENT PAUSE longer than the command timeout: timeouts, retries, nothing lost, no duplicates")
    func clientPause() async throws {
        let bed = try RedisTestbed(commandTimeout: .milliseconds(300))
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        try bed.server.cli(["CLIENT", "PAUSE", "3000", "WRITE"])
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 4, jobsEach: 10).dropFirst(4).map { $0 })
        try await Task.sleep(for: .milliseconds(500))
        #expect((bed.outbox.status().sinks.first?.pending ?? 0) > 0)
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let counts = try idCounts(bed, workflows: 4)
        #expect(counts.count == 40)
        #expect(counts.values.allSatisfy { $0 == 1 })
        #expect(bed.sink.statistics.retried > 0)
    }

    @Test("DEBUG SLEEP (a stalled server): timeouts, retries, nothing lost, no duplicates")
    func debugSleep() async throws {
        let bed = try RedisTestbed(server: try RedisServer(["--enable-debug-command", "yes"]), commandTimeout: .milliseconds(300))
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 1))
        #expect(try await bed.waitUntilDelivered())
        let port = bed.server.port
        let sleeper = Task.detached { try RedisServer.cli(port: port, ["DEBUG", "SLEEP", "1.5"]) }
        try await Task.sleep(for: .milliseconds(100))
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 10).dropFirst(2).map { $0 })
        _ = try await sleeper.value
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let counts = try idCounts(bed, workflows: 2)
        #expect(counts.count == 20)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test("A wrong password: one clear error line, records stay pending; the right one delivers")
    func authentication() async throws {
        let server = try RedisServer(["--requirepass", "s3cret"])
        let lines = LogCapture()
        var logger = Logger(label: "test.redis") { _ in lines }
        logger.logLevel = .info
        let wrong = try RedisTestbed(server: server, url: "redis://:nope@127.0.0.1:\(server.port)", logger: logger)
        defer { wrong.temporary.remove() }  // not wrong.remove(): `right` goes on with the same server
        try await wrong.append(try TestFixtures.workflowEnvelopes(workflows: 2, jobsEach: 2))
        try await Task.sleep(for: .seconds(1))
        #expect(wrong.outbox.status().sinks.first?.pending == 4)
        await wrong.stop()
        let errors = lines.lines.filter { $0.contains("redis unavailable") }
        #expect(errors.count == 1, "\(lines.lines)")
        #expect(errors.first?.contains("authentication failed") == true)
        #expect(errors.first?.contains("WRONGPASS") == true)
        #expect(errors.first?.contains("nope") == false)

        // Same outbox, right password: the pending records go out.
        try FileManager.default.removeItem(atPath: wrong.directory + "/LOCK")
        let right = try RedisTestbed(server: server, url: "redis://:s3cret@127.0.0.1:\(server.port)")
        defer { right.remove() }
        try await right.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 1))
        #expect(try await right.waitUntilDelivered())
        await right.stop()
        #expect(try right.envelopes(in: "ci:wf:wf-0", password: "s3cret").count == 1)
    }

    @Test("ACL user and password, and SELECT db")
    func aclUser() async throws {
        let server = try RedisServer()
        try server.cli(["ACL", "SETUSER", "bridge", "on", ">pw", "~*", "+@all"])
        let bed = try RedisTestbed(server: server, url: "redis://bridge:pw@127.0.0.1:\(server.port)/3")
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 2))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(try server.cli(["-n", "3", "XLEN", "ci:wf:wf-0"]) == "2")
        #expect(try server.cli(["XLEN", "ci:wf:wf-0"]) == "0")
    }

    @Test("A unix socket with a password and a database")
    func unixSocket() async throws {
        let socketDirectory = try TemporaryDirectory("redis-socket")
        defer { socketDirectory.remove() }
        let socketPath = socketDirectory.file("redis.sock")
        let server = try RedisServer(["--unixsocket", socketPath, "--unixsocketperm", "700", "--requirepass", "pw"])
        let bed = try RedisTestbed(server: server, url: "unix://\(socketPath)?db=2&password=pw")
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 3))
        #expect(try await bed.waitUntilDelivered())
        await bed.stop()
        #expect(try server.cli(["-n", "2", "XLEN", "ci:wf:wf-0"], password: "pw") == "3")
    }

    @Test("Redis URLs: TCP, unix, credentials, database; secrets masked; TLS refused clearly")
    func urls() throws {
        let full = try RedisURL("redis://bridge:p%40ss@cache.internal:6380/2")
        #expect(full.endpoint == .tcp(host: "cache.internal", port: 6380))
        #expect(full.user == "bridge")
        #expect(full.password == "p@ss")
        #expect(full.database == 2)
        #expect(full.description == "redis://bridge:***@cache.internal:6380/2")
        let socket = try RedisURL("unix:///run/redis/redis.sock?db=1&password=x")
        #expect(socket.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(socket.description.contains("password=***"))
        #expect(try RedisURL("redis://localhost").endpoint == .tcp(host: "localhost", port: 6379))
        let tls = #expect(throws: RedisError.self) { _ = try RedisURL("rediss://h:6379") }
        #expect(tls?.message.contains("TLS") == true)
        let bad = #expect(throws: RedisError.self) { _ = try RedisURL("http://:secret@h") }
        #expect(bad?.message.contains("secret") == false)
        #expect(throws: RedisError.self) { _ = try RedisURL("redis://h:99999") }
    }

    @Test("Out of memory (maxmemory, noeviction): records wait with backoff and all arrive once memory is there")
    func outOfMemory() async throws {
        let server = try RedisServer(["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"])
        let bed = try RedisTestbed(server: server)
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 20, jobsEach: 100))
        try await Task.sleep(for: .seconds(2))
        let stuck = bed.outbox.status().sinks.first?.pending ?? 0
        #expect(stuck > 0)
        #expect(bed.sink.statistics.retried > 0)
        #expect(try bed.outbox.deadLetters(for: "redis").isEmpty)
        try server.cli(["CONFIG", "SET", "maxmemory", "0"])
        #expect(try await bed.waitUntilDelivered(seconds: 30))
        await bed.stop()
        let counts = try idCounts(bed, workflows: 20)
        #expect(counts.count == 2000)
        #expect(counts.values.allSatisfy { $0 == 1 })
    }

    @Test("Unreachable server: records stay pending and the error says where")
    func unreachable() async throws {
        let server = try RedisServer()
        let port = server.port
        server.kill()
        let lines = LogCapture()
        var logger = Logger(label: "test.redis") { _ in lines }
        logger.logLevel = .info
        let bed = try RedisTestbed(server: server, url: "redis://127.0.0.1:\(port)", logger: logger)
        defer { bed.remove() }
        try await bed.append(try TestFixtures.workflowEnvelopes(workflows: 1, jobsEach: 3))
        try await Task.sleep(for: .milliseconds(700))
        #expect(bed.outbox.status().sinks.first?.pending == 3)
        try server.start()
        #expect(try await bed.waitUntilDelivered(seconds: 20))
        await bed.stop()
        #expect(lines.lines.contains { $0.contains("127.0.0.1:\(port)") && $0.contains("Connection refused") })
        #expect(lines.lines.contains { $0.contains("redis connected again") })
    }
}

/// A log handler that keeps lines (a value, as log handlers are; the lines live in a shared store).
struct LogCapture: LogHandler {
    let store = LineStore()
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    var lines: [String] { store.lines }
    func log(event: LogEvent) {
        let extra = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        store.append("\(event.level) \(event.message) \(extra)")
    }
}

final class LineStore: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
