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

    @Test("With an OTLP endpoint: one trace per callback (receive, decode, outbox append, each sink's publish) reaches a real OTLP/HTTP receiver, parented right, with the event id")
    func spansExported() async throws {
        let receiver = try ChildProcess("/usr/bin/env", ["python3", CLIRunner.repositoryRoot.appendingPathComponent("scripts/otlp-receiver").path])
        defer { receiver.kill() }
        #expect(receiver.waitForStdout(containing: "\n", seconds: 20), "\(receiver.stderr.text)")
        let receiverPort = String(receiver.stdout.text.prefix { $0 != "\n" })
        let redis = try RedisServer()
        let kafka = try ChildProcess(CLIRunner.executable, ["dev-kafka", "--brokers", "1", "--topic", "ci.task-finish:2"])
        defer { kafka.kill() }
        #expect(kafka.waitForStdout(containing: "\n", seconds: 30))
        let brokers = String(kafka.stdout.text.prefix { $0 != "\n" })
        let serve = try ServeProcess(
            arguments: ["--kafka-brokers", brokers, "--redis-url", redis.url, "--token", Self.token],
            environment: ["CIBRIDGE_TRACING_OTLP_ENDPOINT": "http://127.0.0.1:\(receiverPort)/v1/traces"])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")

        func post(_ fixture: String, _ headers: [String: String]) async throws -> String {
            let body = try Data(contentsOf: URL(fileURLWithPath: CLIRunner.fixture("seed/" + fixture)))
            let (status, answer) = try await serve.request(
                "POST", "/callbacks/\(Self.token)", body: body, headers: headers.merging(["Content-Type": "application/xml"]) { $1 })
            #expect(status == 200)
            let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
            return try #require((object?["ids"] as? [String])?.first)
        }
        let continued = try await post("case2-workflow.xml", ["traceparent": "00-\(Self.traceID)-00f067aa0ba902b7-01"])
        let started = try await post("case1-task-api.xml", [:])
        #expect(try await serve.waitUntilDrained())

        // Spans as the receiver printed them, until both traces have all five kinds (or 15 s).
        struct Span {
            let traceID, spanID, name, kind: String
            let parentID, eventID, outcome: String?
        }
        var spans: [Span] = []
        let names = ["POST /callbacks", "decode", "outbox append", "publish kafka", "publish redis"]
        for _ in 0..<150 {
            spans = receiver.stdout.text.split(separator: "\n").dropFirst().compactMap { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let attributes = object["attributes"] as? [String: Any]
                else { return nil }
                return Span(
                    traceID: object["trace_id"] as? String ?? "", spanID: object["span_id"] as? String ?? "",
                    name: object["name"] as? String ?? "", kind: object["kind"] as? String ?? "",
                    parentID: object["parent_span_id"] as? String, eventID: attributes["cloudevents.event_id"] as? String,
                    outcome: attributes["cibridge.delivery.outcome"] as? String)
            }
            let traces = Dictionary(grouping: spans, by: \.traceID)
            if traces.count >= 2, traces.values.allSatisfy({ Set($0.map(\.name)).isSuperset(of: names) }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let traces = Dictionary(grouping: spans, by: \.traceID)
        #expect(traces.count == 2, "\(spans.map { "\($0.traceID) \($0.name)" })")
        for (eventID, incoming) in [(continued, true), (started, false)] {
            let trace = traces.values.first { $0.contains { $0.name == "POST /callbacks" && $0.eventID == eventID } } ?? []
            let server = try #require(trace.first { $0.name == "POST /callbacks" }, "no server span for \(eventID)")
            #expect(server.kind == "SPAN_KIND_SERVER")
            if incoming {
                #expect(server.traceID == Self.traceID)
                #expect(server.parentID == "00f067aa0ba902b7")
            } else {
                #expect(server.parentID == nil)
            }
            for name in ["decode", "outbox append"] {
                let child = trace.first { $0.name == name }
                #expect(child?.parentID == server.spanID, "\(name)")
                #expect(child?.eventID == eventID, "\(name)")
            }
            for sink in ["kafka", "redis"] {
                let publishes = trace.filter { $0.name == "publish \(sink)" }
                #expect(!publishes.isEmpty, "\(sink)")
                #expect(publishes.allSatisfy { $0.parentID == server.spanID && $0.kind == "SPAN_KIND_PRODUCER" && $0.eventID == eventID })
                #expect(publishes.contains { $0.outcome == "delivered" }, "\(sink): \(publishes.map(\.outcome))")
            }
        }
        // What consumers get continues from the server span.
        let fromKafka = try CLIRunner.run([
            "consume", "kafka", "--brokers", brokers, "--from-beginning", "--max", "2", "--idle-timeout", "10", "--verbose",
        ])
        let server = traces[Self.traceID]?.first { $0.name == "POST /callbacks" }
        #expect(fromKafka.stderr.contains("traceparent 00-\(Self.traceID)-\(server?.spanID ?? "?")-01"), "\(fromKafka.stderr)")
    }
}
