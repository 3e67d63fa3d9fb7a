import CIBridgeOutbox
import CIBridgeTestSupport
import Foundation
import Testing

@Suite("Outbox basics")
struct OutboxBasicsTests {
    @Test("Appended records survive close and reopen, and each sink gets them once")
    func appendReopenDeliver() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let config = OutboxConfiguration(sinks: ["kafka", "redis"], minFreeBytes: 0)
        do {
            let outbox = try Outbox(directory: dir.path, configuration: config)
            let sequences = try await outbox.append((1...10).map { entry($0) })
            #expect(sequences == Array(1...10))
            await outbox.close()
        }
        let outbox = try Outbox(directory: dir.path, configuration: config)
        let kafka = try await outbox.take(10, from: "kafka")
        #expect(kafka.map(\.sequence) == Array(1...10))
        #expect(kafka.map(\.payload) == (1...10).map { payload($0) })
        for record in kafka { outbox.ack("kafka", record.sequence) }
        #expect(try await outbox.isIdle("kafka"))
        let redis = try await outbox.take(10, from: "redis")
        #expect(redis.count == 10)
        await outbox.close()

        let reopened = try Outbox(directory: dir.path, configuration: config)
        #expect(try await reopened.isIdle("kafka"))
        #expect(try await reopened.take(10, from: "redis").count == 10)  // never acked: delivered again
        #expect(reopened.status().sinks.first { $0.name == "kafka" }?.watermark == 10)
        await reopened.close()
    }

    @Test("A second process cannot open the same outbox")
    func exclusive() throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let config = OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0)
        let first = try Outbox(directory: dir.path, configuration: config)
        #expect(throws: OutboxError.self) { _ = try Outbox(directory: dir.path, configuration: config) }
        _ = first
    }

    @Test("batches(for:) yields pending records and ends when the outbox closes")
    func asyncSequence() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try Outbox(directory: dir.path, configuration: OutboxConfiguration(sinks: ["s"], minFreeBytes: 0))
        let consumer = Task {
            var seen: [UInt64] = []
            for try await batch in outbox.batches(for: "s") {
                for record in batch {
                    seen.append(record.sequence)
                    outbox.ack("s", record.sequence)
                }
            }
            return seen
        }
        for n in 1...20 { _ = try await outbox.append([entry(n)]) }
        try await Task.sleep(for: .milliseconds(100))
        await outbox.close()
        #expect(try await consumer.value == Array(1...20))
    }

    @Test("fsync interval: appends return before the sync and are all there after close and reopen")
    func intervalPolicy() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let config = OutboxConfiguration(sinks: ["s"], fsync: .interval(milliseconds: 50), minFreeBytes: 0)
        do {
            let outbox = try Outbox(directory: dir.path, configuration: config)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask { for n in 0..<25 { _ = try await outbox.append([entry(writer * 100 + n)]) } }
                }
                try await group.waitForAll()
            }
            await outbox.close()
        }
        let outbox = try Outbox(directory: dir.path, configuration: config)
        #expect(try await outbox.take(200, from: "s").count == 200)
        await outbox.close()
    }
}
