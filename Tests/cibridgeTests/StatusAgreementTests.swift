import CIBridgeCore
import CIBridgeTestSupport
import Foundation
import Testing

/// `/readyz`, `/metrics` and `cibridge outbox status` are built by one status
/// builder: on the same outbox they must show the same figures.
@Suite("One status for /readyz, /metrics and cibridge outbox status", .serialized)
struct StatusAgreementTests {
    /// The workflow of the seed's case 2: its stream key is made a string, so its events are dead letters.
    static let blockedWorkflow = "web6ac56c1ef54dbfa44d7f4103203be9"

    @Test("After deliveries, retries and dead letters, all three agree on pending, progress and dead letters")
    func agree() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        // The task-finish shard of one workflow is blocked: its events there become dead letters.
        try redis.cli(["SET", "ci:task-finish:\(TopicShard.of(partitionKey: Self.blockedWorkflow.utf8, count: 4))", "not a stream"])
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "serve did not start: \(serve.errors.text)")

        // Deliveries and dead letters.
        for callback in ServeTests.callbacks {
            let (status, _) = try await serve.request("POST", "/callbacks", body: callback.body, headers: ["Content-Type": callback.contentType])
            #expect(status == 200, "\(callback.name)")
        }
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        // Retries: Redis gone, three more callbacks wait in the outbox.
        redis.kill()
        for name in ["seed/case1-task-api.xml", "seed/case2-workflow.xml", "seed/case3-workflow.json"] {
            let body = try Data(contentsOf: CLIRunner.fixtures.appendingPathComponent(name))
            _ = try await serve.request("POST", "/callbacks", body: body, headers: ["Content-Type": "application/octet-stream"])
        }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, metric(try await metricsText(serve), "cibridge_sink_retried_total") ?? 0 == 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        // Cursors reach the disk within 200 ms; the CLI reads them from there.
        try await Task.sleep(for: .milliseconds(600))

        let readyz = try #require(
            try JSONSerialization.jsonObject(with: try await serve.request("GET", "/readyz").1) as? [String: Any])
        let fromReadyz = try #require((readyz["sinks"] as? [[String: Any]])?.first { $0["name"] as? String == "redis" })
        let metrics = try await metricsText(serve)
        let cli = try CLIRunner.run(["outbox", "status", "--dir", serve.outbox, "--json"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let status = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
        let fromCLI = try #require((status["sinks"] as? [[String: Any]])?.first { $0["name"] as? String == "redis" })

        let pending = try #require(fromReadyz["pending"] as? Int)
        let deadLetters = try #require(fromReadyz["deadLetters"] as? Int)
        #expect(pending > 0, "the retries are pending")
        #expect(deadLetters > 0, "the blocked workflow's events are dead letters")
        #expect(fromCLI["pending"] as? Int == pending)
        #expect(fromCLI["deadLetters"] as? Int == deadLetters)
        #expect(fromCLI["watermark"] as? Int == fromReadyz["deliveredThrough"] as? Int)
        #expect(metric(metrics, "cibridge_sink_pending").map(Int.init) == pending)
        #expect(metric(metrics, "cibridge_sink_dead_letters").map(Int.init) == deadLetters)
        #expect(status["records"] as? Int == readyz["outboxRecords"] as? Int)
        #expect((metric(metrics, "cibridge_sink_retried_total") ?? 0) > 0)
    }

    func metricsText(_ serve: ServeProcess) async throws -> String {
        String(decoding: try await serve.request("GET", "/metrics").1, as: UTF8.self)
    }

    /// The value of `name` for the redis sink in Prometheus text.
    func metric(_ text: String, _ name: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") && line.contains(#"sink="redis""#) {
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }
}
