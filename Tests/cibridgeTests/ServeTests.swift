import CIBridgeCore
import CIBridgeKafka
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `cibridge serve` end to end: a real process, a real redis-server and
/// librdkafka's mock cluster; callbacks over HTTP; what arrives checked by
/// independent consumers.
@Suite("cibridge serve end to end", .serialized)
struct ServeTests {
    static let token = "t0ken-\(UUID().uuidString.prefix(8))"

    /// Every fixture that is a callback (seed, shapes and Tencent's documented
    /// shapes, moderation results and test requests among them), with its content type.
    static var callbacks: [(name: String, body: Data, contentType: String)] {
        var all: [(String, Data, String)] = []
        for folder in ["seed", "shapes", "callbacks"] {
            let directory = CLIRunner.fixtures.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.sorted() ?? [] {
                let body = (try? Data(contentsOf: directory.appendingPathComponent(name))) ?? Data()
                all.append((folder + "/" + name, body, name.hasSuffix(".xml") ? "application/xml" : "application/json"))
            }
        }
        return all
    }

    @Test("Every fixture POSTed arrives in Kafka and in Redis, byte-identical; bad requests get their status; SIGTERM stops cleanly")
    func endToEnd() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let kafka = try KafkaMockCluster(brokers: 1)
        let serve = try ServeProcess(
            arguments: ["--kafka-brokers", kafka.bootstrapServers, "--redis-url", redis.url],
            environment: ["CIBRIDGE_HTTP_TOKEN": Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "serve did not start: \(serve.errors.text)")

        var expected: [String: [UInt8]] = [:]  // id → envelope
        var pings = 0
        for callback in Self.callbacks {
            let (status, body) = try await serve.request(
                "POST", "/callbacks/\(Self.token)", body: callback.body, headers: ["Content-Type": callback.contentType])
            #expect(status == 200, "\(callback.name): \(String(decoding: body, as: UTF8.self))")
            let decoded = try CallbackDecoder().decode([UInt8](callback.body))
            if case .testPing = decoded { pings += 1 }
            for envelope in EnvelopeBuilder().envelopes(for: decoded) {
                expected[envelope.id] = envelope.jsonBytes()
            }
        }
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")

        // Kafka: each envelope on its topic, keyed by its partition key.
        var fromKafka: [String: [UInt8]] = [:]
        let consumer = try KafkaConsumer(
            brokers: kafka.bootstrapServers, topics: ["ci.task-finish", "ci.workflow-finish", "ci.moderation", "ci.events"],
            fromBeginning: true)
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && fromKafka.count < expected.count {
            guard let record = try consumer.poll(timeoutMilliseconds: 200) else { continue }
            let fields = try #require(EnvelopeFields(json: record.value))
            #expect(String(decoding: record.key, as: UTF8.self) == fields["partitionkey"])
            let type = fields["type"] ?? ""
            #expect(record.topic == (type == EventType.taskFinish ? "ci.task-finish"
                : type == EventType.workflowFinish ? "ci.workflow-finish"
                : type.hasPrefix("com.tencentcloud.ci.moderation") ? "ci.moderation" : "ci.events"))
            fromKafka[fields["id"]!] = record.value
        }
        #expect(fromKafka == expected)

        // Redis: the same bytes in the workflow/queue streams (one entry per id: duplicates deduplicated).
        #expect(try envelopesInRedis(redis) == expected)

        // Refusals: nothing of these is stored or forwarded.
        let case1 = try Data(contentsOf: CLIRunner.fixtures.appendingPathComponent("seed/case1-task-api.xml"))
        let xml = ["Content-Type": "application/xml"]
        #expect(try await serve.request("POST", "/callbacks", body: case1, headers: xml).0 == 401)
        #expect(try await serve.request("POST", "/callbacks/wrong", body: case1, headers: xml).0 == 401)
        #expect(try await serve.request("POST", "/callbacks?token=\(Self.token)", body: case1, headers: ["Content-Type": "image/png"]).0 == 415)
        let xxe = try Data(contentsOf: CLIRunner.fixtures.appendingPathComponent("bad/xxe.xml"))
        let (xxeStatus, xxeBody) = try await serve.request("POST", "/callbacks", body: xxe, headers: xml.merging(["X-CIBridge-Token": Self.token]) { $1 })
        #expect(xxeStatus == 400)
        #expect(String(decoding: xxeBody, as: UTF8.self).contains("forbidden_dtd"))
        let big = Data(repeating: UInt8(ascii: " "), count: 2 << 20)
        #expect(try await serve.request("POST", "/callbacks", body: big, headers: xml.merging(["Authorization": "Bearer \(Self.token)"]) { $1 }).0 == 413)
        let rejected = try FileManager.default.contentsOfDirectory(atPath: serve.outbox + "/rejected").filter { $0.hasSuffix(".body") }
        #expect(rejected.count == 1)
        let listed = try CLIRunner.run(["outbox", "quarantine", "--dir", serve.outbox])
        #expect(listed.stdout.contains("refused body"))
        #expect(listed.stdout.contains("DOCTYPE and entity declarations are not allowed"))
        #expect(try await serve.request("GET", "/healthz").0 == 200)

        let (metricsStatus, metricsBody) = try await serve.request("GET", "/metrics")
        let metrics = String(decoding: metricsBody, as: UTF8.self)
        #expect(metricsStatus == 200)
        #expect(metrics.contains(#"cibridge_callbacks_total{result="accepted",status="200"} \#(Self.callbacks.count - pings)"#), "\(metrics)")
        #expect(metrics.contains(#"cibridge_callbacks_total{result="test_ping",status="200"} \#(pings)"#))
        #expect(metrics.contains(#"cibridge_callbacks_total{result="unauthorized",status="401"} 2"#))
        #expect(metrics.contains(#"cibridge_callbacks_total{result="forbidden_dtd",status="400"} 1"#))
        // A 401 may lose the callback at the source; a 400's body is kept, so it is no refusal.
        #expect(metrics.contains(#"cibridge_callbacks_refused_total{reason="unauthorized"} 2"#))
        #expect(!metrics.contains(#"cibridge_callbacks_refused_total{reason="forbidden_dtd"}"#))
        #expect(metrics.contains(#"cibridge_sink_pending{sink="kafka"} 0"#))
        #expect(metrics.contains(#"cibridge_sink_published_total{sink="redis"}"#))
        #expect(metrics.contains("cibridge_http_request_duration_seconds_bucket"))
        #expect(metrics.contains("cibridge_outbox_append_duration_seconds_bucket"))
        #expect(metrics.contains(#"cibridge_sink_connected{sink="redis"} 1"#))

        #expect(serve.terminate() == 0, "\(serve.errors.text)")
        #expect(serve.errors.text.contains("stopped"))
    }
}

extension ServeTests {
    @Test("kill -9 under load, then restart: every callback answered 200 is delivered, duplicates only with the same id")
    func killUnderLoad() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let kafka = try KafkaMockCluster(brokers: 1)
        let directory = try TemporaryDirectory("serve-kill")
        defer { directory.remove() }
        let outbox = directory.path
        let arguments = ["--kafka-brokers", kafka.bootstrapServers, "--redis-url", redis.url, "--token", Self.token]
        let template = try String(contentsOf: CLIRunner.fixtures.appendingPathComponent("seed/case2-workflow.xml"), encoding: .utf8)
        func body(_ n: Int) -> Data {
            Data(template.replacingOccurrences(of: "web6ac56c1ef54dbfa44d7f4103203be9", with: "wf-\(n % 17)")
                .replacingOccurrences(of: "j6842765cf84611ecb8546d80f2baf56f", with: "job-\(n)").utf8)
        }
        var acknowledged = Set<String>()
        var next = 0
        for round in 0..<2 {
            let serve = try ServeProcess(arguments: arguments, outbox: outbox)
            #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")
            let stopAt = next + 150
            while next < stopAt {
                let (status, response) = try await serve.request("POST", "/callbacks/\(Self.token)", body: body(next), headers: ["Content-Type": "application/xml"])
                if status == 200, let ids = (try? JSONSerialization.jsonObject(with: response) as? [String: Any])?["ids"] as? [String] {
                    acknowledged.formUnion(ids)
                }
                next += 1
                if round == 0 && next == stopAt - 50 {
                    serve.kill()  // in the middle of the load, no warning
                    break
                }
            }
            if round == 1 {
                #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
                #expect(serve.terminate() == 0)
            }
            serve.kill()
        }
        #expect(acknowledged.count >= 200)
        // Redis: every acknowledged id exactly once (the dedupe window covers retries).
        let inRedis = try envelopesInRedis(redis)
        #expect(acknowledged.isSubset(of: Set(inRedis.keys)), "missing in Redis: \(acknowledged.subtracting(inRedis.keys).count)")
        // Kafka: every acknowledged id at least once; copies share the id.
        let consumer = try KafkaConsumer(brokers: kafka.bootstrapServers, topics: ["ci.task-finish"], fromBeginning: true)
        var inKafka = Set<String>()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !acknowledged.isSubset(of: inKafka) {
            if let record = try consumer.poll(timeoutMilliseconds: 200), let id = EnvelopeFields(json: record.value)?["id"] {
                inKafka.insert(id)
            }
        }
        #expect(acknowledged.isSubset(of: inKafka), "missing in Kafka: \(acknowledged.subtracting(inKafka).count)")
    }
}

extension ServeTests {
    static func callbackBody(_ n: Int) throws -> Data {
        let template = try String(contentsOf: CLIRunner.fixtures.appendingPathComponent("seed/case2-workflow.xml"), encoding: .utf8)
        return Data(template.replacingOccurrences(of: "web6ac56c1ef54dbfa44d7f4103203be9", with: "wf-\(n % 5)")
            .replacingOccurrences(of: "j6842765cf84611ecb8546d80f2baf56f", with: "job-\(n)").utf8)
    }

    @Test("Redis down for a while: callbacks are still answered 200, and all arrive once it is back")
    func redisOutage() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        redis.kill()
        var ids = Set<String>()
        for n in 0..<60 {
            let (status, body) = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(n), headers: ["Content-Type": "application/xml"])
            #expect(status == 200)
            ids.formUnion(((try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["ids"] as? [String]) ?? [])
        }
        try await Task.sleep(for: .milliseconds(500))
        let during = String(decoding: try await serve.request("GET", "/metrics").1, as: UTF8.self)
        #expect(during.contains(#"cibridge_sink_connected{sink="redis"} 0"#))
        try redis.start()
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        #expect(Set(try envelopesInRedis(redis).keys) == ids)
        #expect(serve.errors.text.contains("redis unavailable"))
        #expect(serve.terminate() == 0)
    }

    @Test("Kafka brokers down for a while: callbacks are still answered 200, and all arrive once they are back")
    func kafkaOutage() async throws {
        let kafka = try KafkaMockCluster(brokers: 1)
        let serve = try ServeProcess(
            arguments: ["--kafka-brokers", kafka.bootstrapServers, "--token", Self.token],
            environment: ["CIBRIDGE_KAFKA_PROPERTY_MESSAGE_TIMEOUT_MS": "2000"])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        try kafka.setAllBrokers(up: false)
        var ids = Set<String>()
        for n in 0..<40 {
            let (status, body) = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(n), headers: ["Content-Type": "application/xml"])
            #expect(status == 200)
            ids.formUnion(((try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["ids"] as? [String]) ?? [])
        }
        try await Task.sleep(for: .seconds(3))
        try kafka.setAllBrokers(up: true)
        #expect(try await serve.waitUntilDrained(seconds: 60), "\(serve.errors.text)")
        let consumer = try KafkaConsumer(brokers: kafka.bootstrapServers, topics: ["ci.task-finish"], fromBeginning: true)
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !ids.isSubset(of: seen) {
            if let record = try consumer.poll(timeoutMilliseconds: 200), let id = EnvelopeFields(json: record.value)?["id"] { seen.insert(id) }
        }
        #expect(ids.isSubset(of: seen))
        #expect(serve.terminate() == 0)
    }

    @Test("Connections beyond http.max_connections are closed; idle ones are closed after the read timeout; a trickled body gets 408")
    func connectionLimit() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(
            arguments: ["--redis-url", redis.url, "--token", Self.token],
            environment: ["CIBRIDGE_HTTP_MAX_CONNECTIONS": "3", "CIBRIDGE_HTTP_READ_TIMEOUT": "3s"])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        // The readiness probe's kept-alive connection times out. (3 s, so that the
        // checks below, 0.4 s apart, hold on a machine busy with parallel tests.)
        try await Task.sleep(for: .milliseconds(3500))
        let held = (0..<3).map { _ in openSocket(port: serve.port) }
        try await Task.sleep(for: .milliseconds(200))
        let extra = openSocket(port: serve.port)
        try await Task.sleep(for: .milliseconds(200))
        #expect(isClosedByPeer(extra), "the fourth connection was not refused")
        #expect(!isClosedByPeer(held[0]))
        close(extra)
        // Idle past the read timeout: the server closes them, and there is room again.
        try await Task.sleep(for: .milliseconds(3500))
        #expect(held.allSatisfy(isClosedByPeer))
        held.forEach { close($0) }
        // A client that trickles its body (never idle, never finished) gets 408 after the read timeout.
        let slow = openSocket(port: serve.port)
        let head = "POST /callbacks/\(Self.token) HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\nContent-Length: 1000\r\n\r\n"
        _ = head.withCString { send(slow, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var answer = [UInt8](repeating: 0, count: 512)
        let started = ContinuousClock.now
        for _ in 0..<40 {  // a byte every 200 ms (shorter than the idle timeout) until the server answers
            try await Task.sleep(for: .milliseconds(200))
            if recv(slow, &answer, answer.count, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0 { break }
            _ = "<".withCString { send(slow, $0, 1, Int32(MSG_NOSIGNAL)) }
        }
        #expect(ContinuousClock.now - started > .milliseconds(2900), "answered before the read timeout")
        let count = recv(slow, &answer, answer.count, Int32(MSG_DONTWAIT))
        let text = count > 0 ? String(decoding: answer[..<count], as: UTF8.self) : ""
        #expect(text.hasPrefix("HTTP/1.1 408"), "a trickled body was answered: \(text)")
        #expect(text.contains(#""error":"request_timeout""#))
        try await Task.sleep(for: .milliseconds(100))
        #expect(isClosedByPeer(slow))
        close(slow)
        let (status, _) = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(1), headers: ["Content-Type": "application/xml"])
        #expect(status == 200)
        #expect(serve.terminate() == 0)
    }

    @Test("Outbox full: 503 with Retry-After, nothing lost; accepted again once the sink drains")
    func outboxFull() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let port = redis.port
        redis.kill()
        let serve = try ServeProcess(
            arguments: ["--redis-url", "redis://127.0.0.1:\(port)", "--token", Self.token],
            environment: [
                "CIBRIDGE_OUTBOX_SEGMENT_SIZE": "64KiB", "CIBRIDGE_OUTBOX_MAX_SIZE": "160KiB", "CIBRIDGE_OUTBOX_RETENTION": "0s",
                "CIBRIDGE_OUTBOX_MIN_FREE": "0",
            ])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        var accepted = Set<String>()
        var refused: (Int, String?)?
        for n in 0..<200 {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(serve.port)/callbacks/\(Self.token)")!)
            request.httpMethod = "POST"
            request.httpBody = try Self.callbackBody(n)
            request.setValue("application/xml", forHTTPHeaderField: "Content-Type")
            let (body, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            if http.statusCode == 503 {
                refused = (503, http.value(forHTTPHeaderField: "Retry-After"))
                break
            }
            #expect(http.statusCode == 200)
            accepted.formUnion(((try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["ids"] as? [String]) ?? [])
        }
        #expect(refused?.0 == 503)
        #expect(refused?.1 == "30")
        #expect(accepted.count > 10)
        #expect(try await serve.request("GET", "/readyz").0 == 503)
        try redis.start()
        #expect(try await serve.waitUntilDrained(), "\(serve.errors.text)")
        #expect(Set(try envelopesInRedis(redis).keys) == accepted)
        // Delivered segments are released (retention 0): callbacks are accepted again.
        var again = 0
        let deadline = Date().addingTimeInterval(10)
        while again != 200 && Date() < deadline {
            again = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(999), headers: ["Content-Type": "application/xml"]).0
            if again != 200 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(again == 200)
        #expect(serve.terminate() == 0)
    }
}

extension ServeTests {
    @Test("cibridge replay while serve runs: the service replays through the outbox; the sink's own cursor is untouched")
    func replayOnline() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        for n in 0..<20 {
            _ = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(n), headers: ["Content-Type": "application/xml"])
        }
        #expect(try await serve.waitUntilDrained())
        let before = try envelopesInRedis(redis)
        #expect(before.count == 20)
        try redis.cli(["FLUSHALL"])  // the downstream lost everything, dedupe keys included
        let replay = try CLIRunner.run(["replay", "--outbox", serve.outbox, "--sink", "redis", "--since", "1h"])
        #expect(replay.status == 0, "\(replay.stderr) \(serve.errors.text)")
        #expect(replay.stdout.contains("by the running service"))
        #expect(replay.stdout.contains("done"))
        #expect(try envelopesInRedis(redis) == before)
        #expect(serve.errors.text.contains("replay finished"))
        #expect(serve.terminate() == 0)
        let cursors = try FileManager.default.contentsOfDirectory(atPath: serve.outbox + "/cursors")
        #expect(cursors == ["redis.cursor"])
    }

    @Test("cibridge replay with the service stopped publishes itself, bounded by --until-seq")
    func replayOffline() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        for n in 0..<10 {
            _ = try await serve.request("POST", "/callbacks/\(Self.token)", body: try Self.callbackBody(n), headers: ["Content-Type": "application/xml"])
        }
        #expect(try await serve.waitUntilDrained())
        #expect(serve.terminate() == 0)
        try redis.cli(["FLUSHALL"])
        let replay = try CLIRunner.run([
            "replay", "--outbox", serve.outbox, "--sink", "redis", "--from-seq", "3", "--until-seq", "7", "--redis-url", redis.url,
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("replay redis 3…7"))
        let count = try envelopesInRedis(redis).count
        #expect(count == 5, "\(replay.stdout) \(replay.stderr)")
        let status = try CLIRunner.run(["outbox", "status", "--dir", serve.outbox])
        #expect(status.stdout.contains("sink redis: delivered through 10, 0 pending"))
        #expect(!status.stdout.contains("replay"))
    }
}

/// Every `envelope` field in the topic streams (`ci:task-finish:<n>`, …), by
/// envelope id; a second entry for an id is an error. The workflow streams
/// (every other `ci:*` stream), when there are any, must hold exactly the same.
func envelopesInRedis(_ server: RedisServer) throws -> [String: [UInt8]] {
    let connection = try RedisConnection(url: RedisURL(server.url))
    guard case .array(let keys) = try connection.command([Array("KEYS".utf8), Array("ci:*".utf8)]) else { return [:] }
    let topicPrefixes = EventTopic.allCases.map { "ci:\($0.name):" }
    var topics: [String: [UInt8]] = [:]
    var workflows: [String: [UInt8]] = [:]
    for key in keys {
        guard case .bulk(let name) = key,
            case .array(let entries) = try connection.command([Array("XRANGE".utf8), name, Array("-".utf8), Array("+".utf8)])
        else { continue }
        let stream = String(decoding: name, as: UTF8.self)
        let isTopic = topicPrefixes.contains { stream.hasPrefix($0) && Int(stream.dropFirst($0.count)) != nil }
        for entry in entries {
            guard case .array(let parts) = entry, parts.count == 2, case .array(let fields) = parts[1] else { continue }
            var index = 0
            while index + 1 < fields.count {
                if fields[index].text == "envelope", case .bulk(let envelope) = fields[index + 1],
                    let id = EnvelopeFields(json: envelope)?["id"]
                {
                    if isTopic {
                        #expect(topics[id] == nil, "\(id) twice in the topic streams")
                        topics[id] = envelope
                    } else {
                        #expect(workflows[id] == nil, "\(id) twice in the workflow streams")
                        workflows[id] = envelope
                    }
                }
                index += 2
            }
        }
    }
    if !workflows.isEmpty {
        #expect(workflows == topics, "the workflow streams and the topic streams differ")
    }
    return topics
}

/// A TCP connection to 127.0.0.1:`port` that sends nothing.
func openSocket(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return fd
}

/// Whether the other side closed `fd` (a read returns end of file), without blocking.
func isClosedByPeer(_ fd: Int32) -> Bool {
    var byte: UInt8 = 0
    let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
    return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
}
