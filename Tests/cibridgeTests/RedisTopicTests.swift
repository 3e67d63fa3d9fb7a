import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging
import Testing

/// Redis topic streams end to end: `cibridge serve` publishing, consumer
/// groups (`cibridge consume redis --topic` and examples/redis_consumer.py)
/// reading, against a real redis-server.
@Suite("Redis topic streams and consumer groups", .serialized)
struct RedisTopicTests {
    static let token = "t0ken-\(UUID().uuidString.prefix(8))"

    @Test("Order within each workflow holds across shards: 20 workflows × 500 callbacks posted concurrently")
    func orderUnderLoad() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(
            arguments: ["--redis-url", redis.url],
            environment: ["CIBRIDGE_HTTP_TOKEN": Self.token, "CIBRIDGE_REDIS_WORKFLOW_STREAMS": "true"])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "serve did not start: \(serve.errors.text)")
        let port = serve.port
        let token = Self.token
        try await withThrowingTaskGroup(of: Void.self) { group in
            for workflow in 0..<20 {
                group.addTask {
                    // One caller per workflow, each callback answered before the next is sent.
                    for job in 0..<500 {
                        let body = """
                            {"EventName":"TaskFinish","JobsDetail":{"Code":"Success","JobId":"j-\(workflow)-\(job)",\
                            "State":"Success","Tag":"Transcode","QueueId":"p-order","Input":{"BucketId":"order-1250000000",\
                            "Object":"in/\(workflow).mp4","Region":"ap-guangzhou"},\
                            "Workflow":{"WorkflowId":"wf-order-\(workflow)","RunId":"r-\(workflow)-\(job)"}}}
                            """
                        let (status, _, _) = try await ServeProcess.request(
                            port: port, "POST", "/callbacks/\(token)", body: Data(body.utf8),
                            headers: ["Content-Type": "application/json"])
                        #expect(status == 200)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        let shards = try (0..<4).map { try streamEnvelopes(redis, "ci:task-finish:\($0)") }
        #expect(shards.map(\.count).reduce(0, +) == 10_000)
        for workflow in 0..<20 {
            let key = "wf-order-\(workflow)"
            let shard = TopicShard.of(partitionKey: key.utf8, count: 4)
            let jobs = shards[shard].compactMap { EnvelopeFields(json: $0) }.filter { $0["workflowid"] == key }.compactMap { $0["jobid"] }
            #expect(jobs == (0..<500).map { "j-\(workflow)-\($0)" }, "\(key) out of order or incomplete in shard \(shard)")
            // And the same sequence in its workflow stream.
            let own = try streamEnvelopes(redis, "ci:wf:\(key)").compactMap { EnvelopeFields(json: $0)?["jobid"] }
            #expect(own == jobs)
        }
        // Any language computes the shard: Python's zlib.crc32 agrees with ours.
        let keys = (0..<20).map { "wf-order-\($0)" }
        let python = try ChildProcess.run(
            "/usr/bin/env", ["python3", "-c", "import sys, zlib\nfor k in sys.argv[1:]: print(zlib.crc32(k.encode()) % 4)"] + keys)
        #expect(python.stdoutLines == keys.map { String(TopicShard.of(partitionKey: $0.utf8, count: 4)) })
        _ = serve.terminate()
    }

    @Test("examples/redis_consumer.py reads every task-finish fixture exactly once, with a group across all shards")
    func pythonRecipe() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url], environment: ["CIBRIDGE_HTTP_TOKEN": Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "serve did not start: \(serve.errors.text)")
        var expected: [String: [String: Any]] = [:]
        for callback in ServeTests.callbacks {
            let (status, _) = try await serve.request(
                "POST", "/callbacks/\(Self.token)", body: callback.body, headers: ["Content-Type": callback.contentType])
            #expect(status == 200, "\(callback.name)")
            for envelope in EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode([UInt8](callback.body)))
            where envelope.type == EventType.taskFinish {
                expected[envelope.id] = try JSONSerialization.jsonObject(with: Data(envelope.jsonBytes())) as? [String: Any]
            }
        }
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        #expect(expected.count >= 30)
        let script = CLIRunner.repositoryRoot.appendingPathComponent("examples/redis_consumer.py").path
        let result = try ChildProcess.run(
            "/usr/bin/env",
            ["python3", script, "--url", redis.url, "--topic", "task-finish", "--group", "recipe", "--consumer", "c1", "--idle-exit", "2"],
            timeout: 60)
        #expect(result.status == 0, "\(result.stderr) (scripts/install-deps installs redis-py)")
        var seen: [String: Int] = [:]
        for line in result.stdoutLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try #require(object["id"] as? String)
            seen[id, default: 0] += 1
            #expect(expected[id].map { NSDictionary(dictionary: $0).isEqual(to: object) } == true, "\(id) differs")
        }
        #expect(Set(seen.keys) == Set(expected.keys))
        #expect(seen.values.allSatisfy { $0 == 1 }, "printed twice: \(seen.filter { $0.value > 1 }.keys)")
        #expect(try redis.cli(["XPENDING", "ci:task-finish:0", "recipe"]).hasPrefix("0"))
        _ = serve.terminate()
    }

    @Test("Two consumers split a topic; one is killed mid-batch and the other claims its entries; a later one continues")
    func groupFailover() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 30, jobsEach: 20)
        try await publishToRedis(sent, server: redis)
        let all = Set(sent.map(\.id))
        let group = ["consume", "redis", "--url", redis.url, "--topic", "task-finish", "--group", "g", "--from-beginning", "--verbose"]

        // A prints its first batch and dies before acknowledging it.
        let a = try ChildProcess(CLIRunner.executable, group + ["--consumer", "a", "--count", "40", "--pause-before-ack", "60"])
        #expect(a.waitForStdout(containing: "\n", seconds: 20), "a printed nothing: \(a.stderr.text)")
        try await Task.sleep(for: .milliseconds(300))  // the rest of its batch
        a.kill()
        let printedByA = Set(a.stdout.text.split(separator: "\n").compactMap { EnvelopeFields(json: Array($0.utf8))?["id"] })
        #expect(!printedByA.isEmpty && printedByA.count < all.count)

        // B reads the rest, then claims what A left pending once it has been idle for 1 s.
        let b = try CLIRunner.run(group + ["--consumer", "b", "--claim-idle", "1", "--idle-timeout", "4"], timeout: 60)
        #expect(b.status == 0, "\(b.stderr)")
        let printedByB = b.stdoutLines.compactMap { EnvelopeFields(json: Array($0.utf8))?["id"] }
        let claimed = b.stderrLines.filter { $0.hasSuffix(" claimed") }.count
        #expect(printedByB.count == Set(printedByB).count, "b printed an event twice")
        #expect(Set(printedByB).union(printedByA) == all, "an event was never processed")
        #expect(claimed == printedByA.count, "b claimed \(claimed), a had \(printedByA.count) unacknowledged")
        // Read normally, B's events and A's never overlap; only A's unacknowledged batch is processed twice.
        #expect(Set(printedByB).subtracting(printedByA).count == all.count - printedByA.count)
        for shard in 0..<4 {
            #expect(try redis.cli(["XPENDING", "ci:task-finish:\(shard)", "g"]).hasPrefix("0"), "shard \(shard) has pending entries")
        }

        // A consumer started later with the same group continues where the group left off.
        let more = try TestFixtures.workflowEnvelopes(workflows: 5, jobsEach: 1, workflowPrefix: "later-")
        try await publishToRedis(more, server: redis)
        let c = try CLIRunner.run(
            ["consume", "redis", "--url", redis.url, "--topic", "task-finish", "--group", "g", "--consumer", "c", "--idle-timeout", "2"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(Set(c.stdoutLines.compactMap { EnvelopeFields(json: Array($0.utf8))?["id"] }) == Set(more.map(\.id)))
        #expect(c.stdoutLines.count == more.count)
    }

    @Test("serve through Sentinel with min_replicas 1: every fixture reaches the primary and its replica")
    func serveThroughSentinel() async throws {
        let set = try RedisSentinelSet()
        defer { set.stop() }
        let serve = try ServeProcess(
            arguments: ["--redis-url", set.url, "--redis-min-replicas", "1"], environment: ["CIBRIDGE_HTTP_TOKEN": Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "serve did not start: \(serve.errors.text)")
        var expected: Set<String> = []
        for callback in ServeTests.callbacks {
            let (status, _) = try await serve.request(
                "POST", "/callbacks/\(Self.token)", body: callback.body, headers: ["Content-Type": callback.contentType])
            #expect(status == 200, "\(callback.name)")
            expected.formUnion(EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode([UInt8](callback.body))).map(\.id))
        }
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        for server in set.servers {
            let present = try envelopesInRedis(server)
            #expect(Set(present.keys) == expected, "port \(server.port)")
        }
        #expect(serve.errors.text.contains("redis primary located"))
        // Which primary the sink writes to: in /readyz and in /metrics.
        let primary = try #require(try set.primary())
        let readyz = try #require(try JSONSerialization.jsonObject(with: try await serve.request("GET", "/readyz").1) as? [String: Any])
        let sink = (readyz["sinks"] as? [[String: Any]])?.first { $0["name"] as? String == "redis" }
        #expect(sink?["endpoint"] as? String == "redis://127.0.0.1:\(primary.port)/0", "\(readyz)")
        let metrics = String(decoding: try await serve.request("GET", "/metrics").1, as: UTF8.self)
        #expect(metrics.contains(#"cibridge_sink_endpoint_info{sink="redis",endpoint="redis://127.0.0.1:\#(primary.port)/0"} 1"#), "\(metrics)")
        _ = serve.terminate()
    }

    @Test("A consumer whose output is closed stops without acknowledging what it could not print")
    func closedOutput() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let sent = try TestFixtures.workflowEnvelopes(workflows: 8, jobsEach: 5)
        try await publishToRedis(sent, server: redis)
        // `true` exits at once: every write to the pipe fails (EPIPE; SIGPIPE is ignored).
        let command = [CLIRunner.executable, "consume", "redis", "--url", redis.url, "--topic", "task-finish", "--group", "g",
            "--consumer", "a", "--from-beginning", "--idle-timeout", "2"].joined(separator: " ")
        let piped = try ChildProcess.run("/bin/bash", ["-c", "set -o pipefail; " + command + " | true"])
        #expect(piped.status != 0, "the consumer did not notice its output was closed")
        #expect(piped.stderr.contains("standard output closed"), "\(piped.stderr)")
        var pending = 0
        for shard in 0..<4 {
            let summary = try redis.cli(["XPENDING", "ci:task-finish:\(shard)", "g"])
            pending += Int(summary.split(separator: "\n").first ?? "0") ?? 0
        }
        #expect(pending > 0, "entries were acknowledged although they were never printed")
    }
}

/// Publishes `envelopes` to `server` through a real outbox and Redis sink, and
/// waits until they are delivered.
func publishToRedis(_ envelopes: [Envelope], server: RedisServer, workflowStreams: Bool = false) async throws {
    let directory = try TemporaryDirectory("cli-redis")
    defer { directory.remove() }
    let outbox = try Outbox(directory: directory.path, configuration: OutboxConfiguration(sinks: ["redis"], minFreeBytes: 0))
    var quiet = Logger(label: "test")
    quiet.logLevel = .critical
    let configuration = RedisSinkConfiguration(url: try RedisURL(server.url), workflowStreams: workflowStreams)
    let sink = try RedisSink(outbox: outbox, configuration: configuration, logger: quiet)
    let runner = Task { try await sink.run() }
    try await outbox.append(envelopes: envelopes)
    #expect(try await outbox.waitUntilDrained("redis"))
    runner.cancel()
    _ = try? await runner.value
    await outbox.close()
}

/// The `envelope` fields of `stream`, oldest first.
func streamEnvelopes(_ server: RedisServer, _ stream: String) throws -> [[UInt8]] {
    let connection = try RedisConnection(url: RedisURL(server.url))
    guard case .array(let entries) = try connection.command(["XRANGE", stream, "-", "+"].map { Array($0.utf8) }) else { return [] }
    return entries.compactMap { entry in
        guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else { return nil }
        var index = 0
        while index + 1 < fields.count {
            if fields[index].text == "envelope", case .bulk(let bytes) = fields[index + 1] { return bytes }
            index += 2
        }
        return nil
    }
}
