import CIBridgeTestSupport
import Foundation
import Testing

/// `cibridge dev-kafka` and `cibridge consume kafka`, as processes, with kcat in between.
@Suite("cibridge dev-kafka and consume kafka", .serialized)
struct KafkaCommandTests {
    /// Starts `cibridge dev-kafka` with `arguments`; returns it and the first line it printed
    /// (empty when it printed none within 30 seconds).
    private func startDevKafka(_ arguments: [String] = []) throws -> (ChildProcess, String) {
        let server = try ChildProcess(CLIRunner.executable, ["dev-kafka", "--brokers", "1"] + arguments)
        let printed = server.waitForStdout(containing: "\n", seconds: 30)
        return (server, printed ? String(server.stdout.text.prefix { $0 != "\n" }) : "")
    }

    @Test("dev-kafka prints its bootstrap address first; kcat produces; consume prints the envelope; Ctrl-C stops it")
    func devKafkaRoundTrip() throws {
        let (server, firstLine) = try startDevKafka()
        defer { server.kill() }
        #expect(firstLine.hasPrefix("127.0.0.1:"))

        let envelope = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        let produced = try ChildProcess.run(
            "/usr/bin/kcat", ["-P", "-b", firstLine, "-t", "ci.task-finish", "-k", "web6ac56c1ef54dbfa44d7f4103203be9"],
            stdin: Data(envelope.utf8))
        #expect(produced.status == 0)

        let consumed = try CLIRunner.run([
            "consume", "kafka", "--brokers", firstLine, "--from-beginning", "--max", "1", "--idle-timeout", "10", "--verbose",
        ])
        #expect(consumed.status == 0)
        #expect(consumed.stdout == envelope)
        #expect(consumed.stderr.contains("ci.task-finish partition"))
        #expect(consumed.stderr.contains("key web6ac56c1ef54dbfa44d7f4103203be9"))

        server.signal(SIGINT)
        #expect(server.wait(seconds: 30) == 0)
    }

    @Test("consume kafka with an idle timeout stops on its own when nothing comes")
    func idleTimeout() throws {
        let (server, bootstrap) = try startDevKafka(["--topic", "ci.task-finish:2"])
        defer { server.kill() }
        let started = Date()
        let consumed = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--idle-timeout", "1"])
        #expect(consumed.status == 0)
        #expect(consumed.stdout.isEmpty)
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("consume kafka --group commits: a second run of the same group gets nothing old")
    func groupCommits() throws {
        let (server, bootstrap) = try startDevKafka()
        defer { server.kill() }
        let envelope = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        _ = try ChildProcess.run("/usr/bin/kcat", ["-P", "-b", bootstrap, "-t", "ci.task-finish", "-k", "wf"], stdin: Data(envelope.utf8))
        let first = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--group", "g1", "--from-beginning", "--max", "1", "--idle-timeout", "20"])
        #expect(first.stdout == envelope)
        let second = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--group", "g1", "--from-beginning", "--idle-timeout", "4"])
        #expect(second.status == 0)
        #expect(second.stdout.isEmpty)
    }
}
