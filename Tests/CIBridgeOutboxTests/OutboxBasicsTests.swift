import CIBridgeOutbox
import Foundation
import Testing

@Suite("Outbox basics")
struct OutboxBasicsTests {
    @Test("Appended records survive close and reopen, and each sink gets them once")
    func appendReopenDeliver() async throws {
        let dir = TemporaryDirectory()
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
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = OutboxConfiguration(sinks: ["kafka"], minFreeBytes: 0)
        let first = try Outbox(directory: dir.path, configuration: config)
        #expect(throws: OutboxError.self) { _ = try Outbox(directory: dir.path, configuration: config) }
        _ = first
    }
}
