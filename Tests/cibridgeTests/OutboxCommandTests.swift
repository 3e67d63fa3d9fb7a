import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Testing

/// `cibridge outbox …`, run as a process against a real outbox directory.
@Suite("cibridge outbox", .serialized)
struct OutboxCommandTests {
    /// An outbox with 5 envelopes: sink kafka delivered 1-2 and dead-lettered 3, sink redis nothing.
    func prepare() async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("cli-outbox")
        let outbox = try Outbox(directory: directory.path, configuration: OutboxConfiguration(sinks: ["kafka", "redis"], minFreeBytes: 0))
        let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        _ = try await outbox.append((1...5).map { _ in OutboxEntry(key: "wf", payload: Array(golden.dropLast().utf8)) })
        var taken: [OutboxRecord] = []
        while taken.count < 3 { taken += try await outbox.nextBatch(for: "kafka", limit: 3 - taken.count) }
        outbox.ack("kafka", 1)
        outbox.ack("kafka", 2)
        try await outbox.deadLetter("kafka", 3, reason: "MSG_SIZE_TOO_LARGE")
        await outbox.close()
        return directory
    }

    @Test("status reports records, per-sink progress and dead letters")
    func status() async throws {
        let temporary = try await prepare()
        defer { temporary.remove() }
        let directory = temporary.path
        let result = try CLIRunner.run(["outbox", "status", "--dir", directory])
        #expect(result.status == 0)
        #expect(result.stdout.contains("records     5 (sequences 1…5)"))
        #expect(result.stdout.contains("sink kafka: delivered through 3, 2 pending"))
        #expect(result.stdout.contains("1 dead letters"))
        #expect(result.stdout.contains("sink redis: delivered through 0, 5 pending"))

        let json = try CLIRunner.run(["outbox", "status", "--dir", directory, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["records"] as? Int == 5)
    }

    @Test("inspect prints records with the envelope embedded")
    func inspect() async throws {
        let temporary = try await prepare()
        defer { temporary.remove() }
        let directory = temporary.path
        let result = try CLIRunner.run(["outbox", "inspect", "--dir", directory, "--from", "4", "--limit", "5"])
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutLines[0].utf8)) as? [String: Any])
        #expect(first["sequence"] as? Int == 4)
        #expect(first["key"] as? String == "wf")
        #expect((first["payload"] as? [String: Any])?["type"] as? String == "com.tencentcloud.ci.task.finish")
    }

    @Test("dead-letters lists, requeue re-appends for that sink, rewind delivers again")
    func operate() async throws {
        let temporary = try await prepare()
        defer { temporary.remove() }
        let directory = temporary.path
        let dead = try CLIRunner.run(["outbox", "dead-letters", "--dir", directory])
        #expect(dead.stdoutLines.count == 1)
        #expect(dead.stdout.contains("\"reason\":\"MSG_SIZE_TOO_LARGE\""))

        let requeue = try CLIRunner.run(["outbox", "requeue", "--dir", directory, "--sink", "kafka"])
        #expect(requeue.status == 0)
        #expect(requeue.stdout.contains("kafka: requeued 1 as sequences 6…6"))
        let after = try CLIRunner.run(["outbox", "status", "--dir", directory])
        #expect(after.stdout.contains("sink kafka: delivered through 3, 3 pending"))
        #expect(after.stdout.contains("0 dead letters"))
        // The requeued copy is for kafka only.
        #expect(after.stdout.contains("sink redis: delivered through 0, 5 pending"))

        let rewind = try CLIRunner.run(["outbox", "rewind", "--dir", directory, "--sink", "kafka", "--to-seq", "2"])
        #expect(rewind.status == 0)
        #expect(rewind.stdout.contains("kafka: delivered through 1"))
        let since = try CLIRunner.run(["outbox", "rewind", "--dir", directory, "--sink", "kafka", "--since", "1h"])
        #expect(since.stdout.contains("kafka: delivered through 0"))
    }

    @Test("Changing commands refuse an outbox in use; reading ones work")
    func locked() async throws {
        let temporary = try await prepare()
        defer { temporary.remove() }
        let directory = temporary.path
        let running = try Outbox(directory: directory, configuration: OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0))
        let rewind = try CLIRunner.run(["outbox", "rewind", "--dir", directory, "--sink", "kafka", "--to-seq", "1"])
        #expect(rewind.status != 0)
        #expect(rewind.stderr.contains("in use by another process"))
        let status = try CLIRunner.run(["outbox", "status", "--dir", directory])
        #expect(status.status == 0)
        await running.close()
    }

    @Test("Bad arguments are one clear line")
    func badArguments() throws {
        let both = try CLIRunner.run(["outbox", "rewind", "--dir", "/tmp", "--sink", "s", "--to-seq", "1", "--since", "1h"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("give exactly one of --to-seq or --since"))
        let missing = try CLIRunner.run(["outbox", "status", "--dir", "/nonexistent"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent is not an outbox"))
    }
}
