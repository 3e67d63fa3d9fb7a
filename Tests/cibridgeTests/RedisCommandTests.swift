import CIBridgeCore
import CIBridgeOutbox
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Logging
import Testing

/// `cibridge consume redis` against streams the Redis sink wrote.
@Suite("cibridge consume redis", .serialized)
struct RedisCommandTests {
    /// Publishes the seed's three cases (with workflow streams, which these tests read by name).
    func publishSeed(to server: RedisServer) async throws -> [Envelope] {
        var envelopes: [Envelope] = []
        for name in ["case1-task-api.xml", "case2-workflow.xml", "case3-workflow.json"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture("seed/" + name))))
            envelopes += EnvelopeBuilder().envelopes(for: try CallbackDecoder().decode(bytes))
        }
        try await publishToRedis(envelopes, server: server, workflowStreams: true)
        return envelopes
    }

    @Test("A consumer group reads the seed's events back intact and acknowledges them")
    func consumerGroup() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let envelopes = try await publishSeed(to: server)
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        // Cases 2 and 3 are the same event: the dedupe window keeps one entry.
        #expect(try server.cli(["XLEN", "ci:wf:web6ac56c1ef54dbfa44d7f4103203be9"]) == "1")
        let result = try CLIRunner.run([
            "consume", "redis", "--url", server.url, "--stream", "ci:wf:web6ac56c1ef54dbfa44d7f4103203be9",
            "--stream", "ci:jobs:p2242ab62c7c94486915508540933a2c6", "--group", "billing", "--consumer", "c1",
            "--from-beginning", "--max", "2", "--idle-timeout", "5", "--verbose",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.count == 2)
        #expect(result.stdoutLines.contains(String(golden.dropLast())))
        #expect(Set(result.stdoutLines) == Set([envelopes[0], envelopes[1]].map { String(decoding: $0.jsonBytes(), as: UTF8.self) }))
        #expect(result.stderr.contains("ci:wf:web6ac56c1ef54dbfa44d7f4103203be9 "))
        // Acknowledged: nothing pending in the group, and a second read of the group gets nothing old.
        #expect(try server.cli(["XPENDING", "ci:wf:web6ac56c1ef54dbfa44d7f4103203be9", "billing"]).hasPrefix("0"))
        let again = try CLIRunner.run([
            "consume", "redis", "--url", server.url, "--stream", "ci:wf:web6ac56c1ef54dbfa44d7f4103203be9",
            "--group", "billing", "--consumer", "c1", "--idle-timeout", "1",
        ])
        #expect(again.stdout.isEmpty)
    }

    @Test("Without a group, XREAD from the beginning")
    func plainRead() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        _ = try await publishSeed(to: server)
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        let result = try CLIRunner.run([
            "consume", "redis", "--url", server.url, "--stream", "ci:wf:web6ac56c1ef54dbfa44d7f4103203be9", "--from-beginning",
            "--idle-timeout", "1",
        ])
        #expect(result.status == 0)
        #expect(result.stdout == golden)
    }

    @Test("Bad arguments and a wrong password are one clear line")
    func errors() throws {
        let server = try RedisServer(["--requirepass", "pw"])
        defer { server.stop() }
        let wrong = try CLIRunner.run(["consume", "redis", "--url", "redis://:bad@127.0.0.1:\(server.port)", "--stream", "s", "--idle-timeout", "1"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("authentication failed"))
        #expect(!wrong.stderr.contains("bad@"))
        let half = try CLIRunner.run(["consume", "redis", "--url", server.url, "--stream", "s", "--group", "g"])
        #expect(half.status == 64)
        #expect(half.stderr.contains("--group and --consumer go together"))
    }
}
