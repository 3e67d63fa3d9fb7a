import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging

/// A redis-server, an outbox in a temporary directory and a Redis sink.
final class RedisTestbed {
    let server: RedisServer
    /// Holds the outbox.
    let temporary: TemporaryDirectory
    let outbox: Outbox
    let sink: RedisSink
    private var runner: Task<Void, any Error>?

    init(
        server: RedisServer? = nil, url: String? = nil, streams: [String]? = nil, topicStreams: Bool = true,
        workflowStreams: Bool = true, shards: Int = RedisSinkConfiguration.standardShards, minReplicas: Int = 0,
        replicaTimeout: Duration = .seconds(1), maxLength: Int = 100_000,
        commandTimeout: Duration = .seconds(5), dedupeSeconds: Int = 86_400, logger: Logger? = nil,
        retry: RetryPolicy = RetryPolicy(baseMilliseconds: 50, maxMilliseconds: 400)
    ) throws {
        self.server = try server ?? RedisServer()
        temporary = try TemporaryDirectory("redis-test")
        outbox = try Outbox(
            directory: temporary.path,
            configuration: OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0, retry: retry))
        var quiet = Logger(label: "test.redis")
        quiet.logLevel = .critical
        var configuration = RedisSinkConfiguration(
            target: try RedisTarget(url ?? self.server.url), topicStreams: topicStreams, shards: shards,
            workflowStreams: workflowStreams, minReplicas: minReplicas, replicaTimeout: replicaTimeout, maxLength: maxLength,
            dedupeSeconds: dedupeSeconds,
            connectTimeout: .seconds(1), commandTimeout: commandTimeout)
        if let streams { configuration.streams = try AttributeTemplateList(streams) }
        try configuration.validate()
        sink = try RedisSink(outbox: outbox, configuration: configuration, logger: logger ?? quiet)
        let sink = self.sink
        runner = Task { try await sink.run() }
    }

    /// The outbox's directory.
    var directory: String { temporary.path }

    func stop() async {
        runner?.cancel()
        _ = try? await runner?.value
        await outbox.close()
    }

    /// Stops the server and removes the outbox's directory.
    func remove() {
        server.stop()
        temporary.remove()
    }

    @discardableResult
    func append(_ envelopes: [Envelope]) async throws -> [UInt64] {
        try await outbox.append(envelopes: envelopes)
    }

    /// Appends `envelopes` in batches of `batch`, `pause` apart; each fault runs
    /// once `after` envelopes have been appended, and the appending goes on.
    func append(_ envelopes: [Envelope], batch: Int, pause: Duration, faults: [(after: Int, run: () throws -> Void)]) async throws {
        var pending = faults
        for start in stride(from: 0, to: envelopes.count, by: batch) {
            try await append(Array(envelopes[start..<min(start + batch, envelopes.count)]))
            while let next = pending.first, start + batch >= next.after {
                try next.run()
                pending.removeFirst()
            }
            try await Task.sleep(for: pause)
        }
    }

    func waitUntilDelivered(seconds: Double = 20) async throws -> Bool {
        try await outbox.waitUntilDrained("redis", seconds: seconds)
    }

    /// The `envelope` fields of every shard of `topic` (`ci:<topic>:<n>`), by shard.
    func topicEnvelopes(_ topic: EventTopic, shards: Int = RedisSinkConfiguration.standardShards) throws -> [[String]] {
        try (0..<shards).map { try envelopes(in: "ci:\(topic.name):\($0)") }
    }

    /// The `envelope` fields of a stream, oldest first.
    func envelopes(in stream: String, password: String? = nil) throws -> [String] {
        let reply = try RedisConnection(url: RedisURL(password.map { "redis://:\($0)@127.0.0.1:\(server.port)" } ?? server.url))
            .command([Array("XRANGE".utf8), Array(stream.utf8), Array("-".utf8), Array("+".utf8)])
        guard case .array(let entries) = reply else { return [] }
        return entries.compactMap { entry -> String? in
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else { return nil }
            var index = 0
            while index + 1 < fields.count {
                if fields[index].text == "envelope" { return fields[index + 1].text }
                index += 2
            }
            return nil
        }
    }
}
