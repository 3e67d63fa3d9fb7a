import CIBridgeTestSupport
import Foundation
import Testing

/// One callback's W3C trace context from the POST to both consumers, through
/// real processes: `cibridge serve`, `cibridge dev-kafka`, redis-server and
/// `cibridge consume … --verbose`.
@Suite("Trace context from the POST to the consumers", .serialized)
struct TraceContextTests {
    static let token = "trace-token"
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

    @Test("A traceparent sent with the callback reaches Kafka headers and Redis fields, continued; consume --verbose prints it")
    func endToEnd() async throws {
        let redis = try RedisServer()
        let kafka = try ChildProcess(CLIRunner.executable, ["dev-kafka", "--brokers", "1", "--topic", "ci.task-finish:2"])
        defer { kafka.kill() }
        #expect(kafka.waitForStdout(containing: "\n", seconds: 30))
        let brokers = String(kafka.stdout.text.prefix { $0 != "\n" })
        let serve = try ServeProcess(arguments: ["--kafka-brokers", brokers, "--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")

        let body = try Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture("seed/case2-workflow.xml")))
        let (status, answer) = try await serve.request(
            "POST", "/callbacks/\(Self.token)", body: body,
            headers: [
                "Content-Type": "application/xml", "traceparent": "00-\(Self.traceID)-00f067aa0ba902b7-01",
                "tracestate": "congo=t61rcWkgMzE",
            ])
        #expect(status == 200, "\(String(decoding: answer, as: UTF8.self))")
        #expect(try await serve.waitUntilDrained())

        let fromKafka = try CLIRunner.run([
            "consume", "kafka", "--brokers", brokers, "--from-beginning", "--max", "1", "--idle-timeout", "10", "--verbose",
        ])
        let fromRedis = try CLIRunner.run([
            "consume", "redis", "--url", redis.url, "--topic", "task-finish", "--from-beginning", "--max", "1", "--idle-timeout", "5",
            "--verbose",
        ])
        for (name, result) in [("kafka", fromKafka), ("redis", fromRedis)] {
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let printed = result.stderr.firstMatch(of: /traceparent (00-([0-9a-f]{32})-([0-9a-f]{16})-(\d\d)) tracestate (\S+)/)
            #expect(printed?.2 == Substring(Self.traceID), "\(name): \(result.stderr)")
            // cibridge's own span: a child of the caller's, not the caller's.
            #expect(printed?.3 != "00f067aa0ba902b7")
            #expect(printed?.4 == "01")
            #expect(printed?.5 == "congo=t61rcWkgMzE")
            // The envelope is the same bytes as without tracing.
            let golden = try String(contentsOfFile: CLIRunner.fixture("golden/case2-workflow.jsonl"), encoding: .utf8)
            #expect(result.stdout == golden, "\(name)")
        }
        // Both sinks carry the same context: one callback, one span of cibridge's.
        let kafkaSpan = fromKafka.stderr.firstMatch(of: /traceparent (\S+)/)?.1
        #expect(kafkaSpan != nil && kafkaSpan == fromRedis.stderr.firstMatch(of: /traceparent (\S+)/)?.1)
    }
}
