import CIBridgeCore
import CIBridgeKafka
import CIBridgeRedis
import CIBridgeTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Faults around a real `cibridge serve`: what it answered, what it logged,
/// what its metrics showed, and that nothing it acknowledged was lost. Each
/// test prints a `fault:` summary line (docs/reliability.md quotes them).
/// (Redis killed, restarted, paused and out of memory, Kafka brokers down and
/// a `kill -9` under load are in ServeTests and RedisFaultTests.)
@Suite("Fault matrix", .serialized)
struct FaultMatrixTests {
    static let token = ServeTests.token

    @Test("Kafka: leaders move, 300 ms round trips and injected NOT_LEADER errors under load; every callback delivered")
    func kafkaLeadersAndLatency() async throws {
        let kafka = try KafkaMockCluster(brokers: 3)
        try kafka.createTopic("ci.task-finish", partitions: 6, replicationFactor: 3)
        let serve = try ServeProcess(
            arguments: ["--kafka-brokers", kafka.bootstrapServers, "--token", Self.token],
            environment: ["CIBRIDGE_LOG_LEVEL": "trace", "CIBRIDGE_LOG_FORMAT": "json"])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")
        var acknowledged = try await post(serve, 0..<60).ids
        try kafka.setRoundTripTime(broker: 1, milliseconds: 300)
        try kafka.setRoundTripTime(broker: 2, milliseconds: 300)
        try kafka.setRoundTripTime(broker: 3, milliseconds: 300)
        for partition in 0..<6 { try kafka.setPartitionLeader("ci.task-finish", partition: Int32(partition), broker: Int32(partition % 3 + 1)) }
        kafka.pushRequestErrors(apiKey: 0, Array(repeating: KafkaMockCluster.ErrorCode.notLeaderForPartition, count: 5))
        let during = try await post(serve, 60..<120)
        acknowledged.formUnion(during.ids)
        for partition in 0..<6 { try kafka.setPartitionLeader("ci.task-finish", partition: Int32(partition), broker: Int32((partition + 1) % 3 + 1)) }
        try kafka.setRoundTripTime(broker: 1, milliseconds: 0)
        try kafka.setRoundTripTime(broker: 2, milliseconds: 0)
        try kafka.setRoundTripTime(broker: 3, milliseconds: 0)
        acknowledged.formUnion(try await post(serve, 120..<180).ids)
        #expect(try await serve.waitUntilDrained(seconds: 60), "\(serve.errors.text)")
        let metrics = try await metricsText(serve)
        let highWater = try Self.highWater(kafka, "ci.task-finish")
        let inKafka = try idsInKafka(kafka, expecting: acknowledged)
        let lost = acknowledged.subtracting(inKafka).count
        print("fault: Kafka leader moves + 300 ms RTT + 5 × NOT_LEADER: answered \(during.statuses), slowest answer \(during.slowestMs) ms; "
            + "\(metricLine(metrics, "cibridge_sink_retried_total", "kafka")); \(acknowledged.count) acknowledged, high-water sum \(highWater), lost \(lost)")
        #expect(highWater >= Int64(acknowledged.count))
        if lost > 0 {
            // Where did the producer say the missing ones went?
            let missing = acknowledged.subtracting(inKafka)
            print("fault: missing in Kafka: \(missing.sorted())")
            let records = try CLIRunner.run(["outbox", "inspect", "--dir", serve.outbox, "--limit", "1000"]).stdout
            for line in records.split(separator: "\n") where missing.contains(where: { line.contains($0) }) {
                print("fault: missing record: \(line.prefix(160))")
            }
            let kafkaLines = serve.errors.text.split(separator: "\n").filter { $0.contains("kafka") || $0.contains("Kafka") }
            print("fault: serve's Kafka log (\(kafkaLines.count) lines):\n" + kafkaLines.suffix(400).joined(separator: "\n"))
        }
        #expect(during.statuses == [200: 60], "callbacks must not wait for Kafka")
        #expect(lost == 0)
        #expect(serve.terminate() == 0)
    }

    @Test(
        "Outbox disk full (a 4 MiB filesystem): 503 with Retry-After, nothing acknowledged lost, accepted again once space is back",
        .enabled(if: TestEnvironment.canMountTmpfs, TemporaryMount.requirement))
    func diskFull() async throws {
        let mount = try TemporaryMount(sizeMiB: 4)
        defer { mount.remove() }
        let redis = try RedisServer()
        defer { redis.stop() }
        redis.kill()
        let serve = try ServeProcess(
            arguments: ["--redis-url", redis.url, "--token", Self.token], outbox: mount.path + "/outbox",
            environment: [
                "CIBRIDGE_OUTBOX_SEGMENT_SIZE": "64KiB", "CIBRIDGE_OUTBOX_MIN_FREE": "0", "CIBRIDGE_OUTBOX_RETENTION": "0s",
            ])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")
        var acknowledged = Set<String>()
        var refusal: (status: Int, body: String, retryAfter: String?)?
        for n in 0..<5_000 where refusal == nil {
            let (status, body, retryAfter) = try await postOne(serve, n)
            if status == 200 {
                acknowledged.formUnion(Self.ids(body))
            } else {
                refusal = (status, body, retryAfter)
            }
        }
        let refused = try #require(refusal, "a 4 MiB outbox never filled")
        let reserveAtFull = FileManager.default.fileExists(atPath: serve.outbox + "/reserve")
        let ready = try await serve.request("GET", "/readyz")
        let metrics = try await metricsText(serve)
        // Space comes back when Redis does: delivered segments are deleted (retention 0s).
        try redis.start()
        #expect(try await serve.waitUntilDrained(seconds: 60), "\(serve.errors.text)")
        var acceptedAgain = false
        for _ in 0..<50 where !acceptedAgain {
            try await Task.sleep(for: .milliseconds(200))
            let (status, body, _) = try await postOne(serve, 10_000)
            if status == 200 { acceptedAgain = true; acknowledged.formUnion(Self.ids(body)) }
        }
        #expect(try await serve.waitUntilDrained(seconds: 30))
        let reserveAfter = FileManager.default.fileExists(atPath: serve.outbox + "/reserve")
        let inRedis = Set(try envelopesInRedis(redis).keys)
        let lost = acknowledged.subtracting(inRedis).count
        let logged = serve.errors.text.split(separator: "\n").first { $0.contains("outbox") && $0.contains("503") } ?? "nothing"
        print("fault: disk full: after \(acknowledged.count - 1) accepted, answered \(refused.status) \(Self.code(refused.body)) with Retry-After \(refused.retryAfter ?? "none"); "
            + "readyz \(ready.0) \(Self.code(String(decoding: ready.1, as: UTF8.self))); logged \"\(logged.suffix(120))\"; "
            + "\(metricLine(metrics, "cibridge_callbacks_total", "503")); accepted again after Redis came back: \(acceptedAgain) "
            + "(1 MiB reserve present when full: \(reserveAtFull), given up and made again: \(reserveAfter)); lost \(lost)")
        #expect(reserveAtFull)
        #expect(refused.status == 503)
        #expect(refused.retryAfter != nil)
        #expect(acceptedAgain)
        #expect(lost == 0)
        #expect(serve.terminate() == 0)
    }

    @Test(
        "Read-only outbox filesystem at start: serve refuses to start with one clear line",
        .enabled(if: TestEnvironment.canMountTmpfs, TemporaryMount.requirement))
    func readOnlyOutbox() async throws {
        let mount = try TemporaryMount(sizeMiB: 4)
        defer { mount.remove() }
        try mount.remount(readOnly: true)
        let run = try CLIRunner.run(
            ["serve", "--outbox", mount.path + "/outbox", "--redis-url", "redis://127.0.0.1:1", "--listen", "127.0.0.1:\(RedisServer.freePort())"],
            timeout: 20)
        let line = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
        print("fault: read-only outbox at start: exit \(run.status), \"\(line)\"")
        #expect(run.status != 0)
        #expect(line.contains("Read-only") || line.contains("read-only"), "\(run.stderr)")
    }

    @Test("A damaged segment and a garbage cursor at start: serve starts, says what it repaired, delivers every intact record")
    func damagedOutboxAtStart() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        redis.kill()
        let serve = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady())
        let first = try await post(serve, 0..<40)
        #expect(serve.terminate() == 0)
        // Damage: 64 bytes of garbage in the middle of the segment, and a cursor that is not a cursor.
        let segments = try FileManager.default.contentsOfDirectory(atPath: serve.outbox + "/segments").sorted()
        let segment = serve.outbox + "/segments/" + (try #require(segments.first))
        let handle = try #require(FileHandle(forUpdatingAtPath: segment))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 64))
        try handle.close()
        try Data("not a cursor\n".utf8).write(to: URL(fileURLWithPath: serve.outbox + "/cursors/redis.cursor"))

        try redis.start()
        let again = try ServeProcess(arguments: ["--redis-url", redis.url, "--token", Self.token], outbox: serve.outbox)
        defer { again.kill() }
        #expect(try await again.waitUntilReady(), "\(again.errors.text)")
        #expect(try await again.waitUntilDrained(seconds: 30))
        let status = try CLIRunner.run(["outbox", "status", "--dir", serve.outbox])
        let notes = again.errors.text.split(separator: "\n").filter { $0.contains("outbox recovery") }
        let inRedis = Set(try envelopesInRedis(redis).keys)
        let missing = first.ids.subtracting(inRedis)
        let quarantined = Int(status.stdout.firstMatch(of: /quarantined (\d+)/)?.1 ?? "") ?? -1
        print("fault: damaged segment + garbage cursor: started, \(notes.count) recovery note(s) logged (\(notes.first.map { String($0.suffix(140)) } ?? "")); "
            + "\(first.ids.count) acknowledged, \(inRedis.count) delivered, \(missing.count) inside the damaged bytes (kept in quarantine: \(quarantined) record(s))")
        #expect(!notes.isEmpty)
        #expect(missing.count <= 1, "more records lost than the 64 damaged bytes can hold")
        #expect(again.terminate() == 0)
    }

    /// Only forward: libfaketime also shifts absolute *monotonic* timer
    /// deadlines (`timerfd_settime`) by its offset, which a real NTP step never
    /// does, so a backward jump under it stalls every Dispatch timer for the
    /// size of the jump — an artefact of the tool. Backward steps are covered
    /// where time is an input: retries are timed on the monotonic clock
    /// (`SinkStateTests`, `OutboxDeliveryTests`) and ages never go negative.
    @Test(
        "Wall clock steps 2 days forward during an outage: answers stay 200, retention keeps undelivered records, delivery resumes",
        .enabled(if: TestEnvironment.hasLibfaketime, "libfaketime not installed; scripts/install-deps installs it"),
        .disabled(if: TestEnvironment.underSanitizer, "under a sanitizer: its runtime must come first, and libfaketime is preloaded"))
    func clockJumpsForward() async throws {
        let library = TestEnvironment.libfaketime
        let directory = try TemporaryDirectory("faketime")
        defer { directory.remove() }
        let clock = directory.file("clock")
        try "+0".write(toFile: clock, atomically: true, encoding: .utf8)
        let redis = try RedisServer()
        defer { redis.stop() }
        redis.kill()
        let serve = try ServeProcess(
            arguments: ["--redis-url", redis.url, "--token", Self.token],
            environment: [
                "LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": clock, "FAKETIME_NO_CACHE": "1",
                // Only the wall clock moves, as with an NTP step or an operator's `date -s`.
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                "CIBRIDGE_OUTBOX_RETENTION": "1h", "CIBRIDGE_OUTBOX_SEGMENT_SIZE": "64KiB",
            ])
        defer { serve.remove() }
        #expect(try await serve.waitUntilReady(), "\(serve.errors.text)")
        let before = try await post(serve, 0..<60)
        try "+2d".write(toFile: clock, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .seconds(1))  // maintenance runs: retention (1 h) must not touch undelivered records
        let after = try await post(serve, 60..<120)
        let segments = try FileManager.default.contentsOfDirectory(atPath: serve.outbox + "/segments").count
        try redis.start()
        let started = ContinuousClock.now
        let drained = try await serve.waitUntilDrained(seconds: 90)
        let seconds = (ContinuousClock.now - started).components.seconds
        let acknowledged = before.ids.union(after.ids)
        let inRedis = Set(try envelopesInRedis(redis).keys)
        let lost = acknowledged.subtracting(inRedis).count
        print("fault: wall clock +2 days with Redis down: answered \(before.statuses) before, \(after.statuses) after; "
            + "\(segments) segment(s) kept past retention while undelivered; drained \(drained) within \(seconds) s of Redis coming back; "
            + "\(acknowledged.count) acknowledged, lost \(lost)")
        #expect(before.statuses == [200: 60] && after.statuses == [200: 60])
        #expect(drained, "\(serve.errors.text)")
        #expect(lost == 0)
        #expect(serve.terminate() == 0)
    }

    // MARK: - Helpers

    struct Posted {
        var ids = Set<String>()
        var statuses: [Int: Int] = [:]
        var slowestMs = 0
    }

    func post(_ serve: ServeProcess, _ range: Range<Int>) async throws -> Posted {
        var result = Posted()
        for n in range {
            let started = ContinuousClock.now
            let (status, body, _) = try await postOne(serve, n)
            let elapsed = ContinuousClock.now - started
            result.slowestMs = max(result.slowestMs, Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
            result.statuses[status, default: 0] += 1
            if status == 200 { result.ids.formUnion(Self.ids(body)) }
        }
        return result
    }

    func postOne(_ serve: ServeProcess, _ n: Int) async throws -> (Int, String, String?) {
        let (status, data, http) = try await ServeProcess.request(
            port: serve.port, "POST", "/callbacks/\(Self.token)", body: try ServeTests.callbackBody(n),
            headers: ["Content-Type": "application/xml"])
        return (status, String(decoding: data, as: UTF8.self), http?.value(forHTTPHeaderField: "Retry-After"))
    }

    static func ids(_ body: String) -> [String] {
        ((try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["ids"] as? [String]) ?? []
    }

    static func code(_ body: String) -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (object?["status"] as? String) ?? (object?["error"] as? String) ?? (object?["reason"] as? String) ?? ""
    }

    func metricsText(_ serve: ServeProcess) async throws -> String {
        String(decoding: try await serve.request("GET", "/metrics").1, as: UTF8.self)
    }

    func metricLine(_ metrics: String, _ name: String, _ label: String) -> String {
        metrics.split(separator: "\n").filter { $0.hasPrefix(name) && $0.contains(label) }.joined(separator: ", ")
    }

    /// Messages in `topic`, by the brokers' high-water offsets.
    static func highWater(_ kafka: KafkaMockCluster, _ topic: String) throws -> Int64 {
        let consumer = try KafkaConsumer(brokers: kafka.bootstrapServers, topics: [], fromBeginning: true)
        var total: Int64 = 0
        for partition in 0..<(try consumer.partitionCount(topic)) { total += try consumer.watermarks(topic, partition: partition).high }
        return total
    }

    func idsInKafka(_ kafka: KafkaMockCluster, expecting: Set<String>) throws -> Set<String> {
        let consumer = try KafkaConsumer(brokers: kafka.bootstrapServers, topics: ["ci.task-finish"], fromBeginning: true)
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && !expecting.isSubset(of: seen) {
            if let record = try consumer.poll(timeoutMilliseconds: 200), let id = EnvelopeFields(json: record.value)?["id"] { seen.insert(id) }
        }
        return seen
    }
}
