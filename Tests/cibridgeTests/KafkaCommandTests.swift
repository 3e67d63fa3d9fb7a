import Foundation
import Testing

/// `cibridge dev-kafka` and `cibridge consume kafka`, as processes, with kcat in between.
@Suite("cibridge dev-kafka and consume kafka", .serialized)
struct KafkaCommandTests {
    /// Starts `cibridge dev-kafka` with `arguments`; returns it and the first line it printed.
    private func startDevKafka(_ arguments: [String] = []) throws -> (Process, String) {
        let server = Process()
        server.executableURL = CLIRunner.productsDirectory.appendingPathComponent("cibridge")
        server.arguments = ["dev-kafka", "--brokers", "1"] + arguments
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        return (server, readLine(from: out.fileHandleForReading))
    }

    @Test("dev-kafka prints its bootstrap address first; kcat produces; consume prints the envelope; Ctrl-C stops it")
    func devKafkaRoundTrip() throws {
        let (server, firstLine) = try startDevKafka()
        defer { if server.isRunning { server.terminate() } }
        #expect(firstLine.hasPrefix("127.0.0.1:"))

        let envelope = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        let produced = try CLIRunner.run(
            ["-P", "-b", firstLine, "-t", "ci.task-finish", "-k", "web6ac56c1ef54dbfa44d7f4103203be9"],
            stdin: Data(envelope.utf8), executable: URL(fileURLWithPath: "/usr/bin/kcat"))
        #expect(produced.status == 0)

        let consumed = try CLIRunner.run([
            "consume", "kafka", "--brokers", firstLine, "--from-beginning", "--max", "1", "--idle-timeout", "10", "--verbose",
        ])
        #expect(consumed.status == 0)
        #expect(consumed.stdout == envelope)
        #expect(consumed.stderr.contains("ci.task-finish partition"))
        #expect(consumed.stderr.contains("key web6ac56c1ef54dbfa44d7f4103203be9"))

        kill(server.processIdentifier, SIGINT)
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
    }

    @Test("consume kafka with an idle timeout stops on its own when nothing comes")
    func idleTimeout() throws {
        let (server, bootstrap) = try startDevKafka(["--topic", "ci.task-finish:2"])
        defer { server.terminate() }
        let started = Date()
        let consumed = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--idle-timeout", "1"])
        #expect(consumed.status == 0)
        #expect(consumed.stdout.isEmpty)
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("consume kafka --group commits: a second run of the same group gets nothing old")
    func groupCommits() throws {
        let (server, bootstrap) = try startDevKafka()
        defer { server.terminate() }
        let envelope = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
        _ = try CLIRunner.run(["-P", "-b", bootstrap, "-t", "ci.task-finish", "-k", "wf"], stdin: Data(envelope.utf8),
                              executable: URL(fileURLWithPath: "/usr/bin/kcat"))
        let first = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--group", "g1", "--from-beginning", "--max", "1", "--idle-timeout", "20"])
        #expect(first.stdout == envelope)
        let second = try CLIRunner.run(["consume", "kafka", "--brokers", bootstrap, "--group", "g1", "--from-beginning", "--idle-timeout", "4"])
        #expect(second.status == 0)
        #expect(second.stdout.isEmpty)
    }

    private func readLine(from handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            bytes.append(byte.first!)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
