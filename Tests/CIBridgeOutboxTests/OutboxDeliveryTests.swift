@testable import CIBridgeOutbox
import CIBridgeTestSupport
import Dispatch
import Foundation
import Testing

@Suite("Outbox delivery")
struct OutboxDeliveryTests {
    func open(_ dir: TemporaryDirectory, sinks: [String] = ["s"], _ adjust: (inout OutboxConfiguration) -> Void = { _ in })
        throws -> Outbox
    {
        var config = OutboxConfiguration(sinks: sinks, minFreeBytes: 0)
        adjust(&config)
        return try Outbox(directory: dir.path, configuration: config)
    }

    @Test("Concurrent appends are group-committed into one contiguous sequence")
    func concurrentAppends() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir)
        let all = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for writer in 0..<64 {
                group.addTask {
                    var mine: [UInt64] = []
                    for n in 0..<20 { mine += try await outbox.append([entry(writer * 100 + n)]) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(all.sorted() == Array(1...1280))
        let records = try await outbox.take(1280, from: "s")
        #expect(records.map(\.sequence) == Array(1...1280))
        await outbox.close()
    }

    @Test("Out-of-order acks: the watermark is the contiguous low point, and it is what persists")
    func outOfOrderAcks() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        do {
            let outbox = try open(dir)
            _ = try await outbox.append((1...6).map { entry($0, key: "k\($0)") })
            _ = try await outbox.take(6, from: "s")
            for sequence: UInt64 in [2, 3, 5, 6] { outbox.ack("s", sequence) }
            #expect(outbox.status().sinks[0].watermark == 0)
            outbox.ack("s", 1)
            #expect(outbox.status().sinks[0].watermark == 3)
            await outbox.close()
        }
        let outbox = try open(dir)
        let again = try await outbox.take(3, from: "s", seconds: 10)
        // 4 was never acked; 5 and 6 were, but only the low-watermark persists: at least once.
        #expect(again.map(\.sequence) == [4, 5, 6])
        await outbox.close()
    }

    @Test("When every in-flight slot waits for a retry, due retries are still dispatched (a long outage)")
    func retriesFillTheWindow() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir) { $0.maxInFlightPerSink = 4 }
        _ = try await outbox.append((1...10).map { entry($0, key: "k\($0)") })
        let first = try await outbox.take(4, from: "s")
        #expect(first.map(\.sequence) == [1, 2, 3, 4])
        for record in first { outbox.retry("s", record.sequence, after: 0) }
        // Before the fix the window counted these retries as no room, and the
        // sink's loop spun without ever dispatching them again.
        let again = try await outbox.take(4, from: "s", seconds: 2)
        #expect(again.map(\.sequence) == [1, 2, 3, 4])
        for record in again { outbox.ack("s", record.sequence) }
        let next = try await outbox.take(4, from: "s", seconds: 2)
        #expect(next.map(\.sequence) == [5, 6, 7, 8])
        for record in next { outbox.ack("s", record.sequence) }
        let last = try await outbox.take(2, from: "s", seconds: 2)
        #expect(last.map(\.sequence) == [9, 10])
        await outbox.close()
    }

    @Test("A retried record holds back later records of its key, not other keys")
    func retryHoldsKey() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir)
        _ = try await outbox.append([entry(1, key: "A"), entry(2, key: "B")])
        let first = try await outbox.take(2, from: "s")
        #expect(first.map(\.sequence) == [1, 2])
        #expect(outbox.retry("s", 1, after: 500) == 1)
        outbox.ack("s", 2)
        _ = try await outbox.append([entry(3, key: "A"), entry(4, key: "B")])
        // Take everything that comes, acknowledging as it comes; 1 is acked when it returns.
        var order: [UInt64] = []
        var deliveredBeforeOneAcked: [UInt64] = []
        var oneAcked = false
        while order.count < 3 {
            let batch = try await outbox.take(1, from: "s", seconds: 10)
            guard let record = batch.first else { break }
            order.append(record.sequence)
            if !oneAcked { deliveredBeforeOneAcked.append(record.sequence) }
            outbox.ack("s", record.sequence)
            if record.sequence == 1 { oneAcked = true }
        }
        #expect(Set(order) == [1, 3, 4])
        // A's next record waited until the retry was delivered (whatever the timing).
        // That B's record does not wait is checked on the state machine, without clocks.
        #expect(order.firstIndex(of: 1)! < order.firstIndex(of: 3)!)
        #expect(!deliveredBeforeOneAcked.contains(3))
        await outbox.close()
    }

    @Test("Retry without a delay uses capped exponential backoff with jitter")
    func backoff() {
        let policy = RetryPolicy(baseMilliseconds: 100, maxMilliseconds: 1_000)
        var rng = SystemRandomNumberGenerator()
        for attempt in 1...12 {
            let ceiling = min(1_000, 100 << Int64(attempt - 1))
            for _ in 0..<50 {
                let delay = policy.delay(attempt: attempt, using: &rng)
                #expect(delay >= ceiling / 2 && delay <= ceiling)
            }
        }
    }

    @Test("Dead letters keep the record and reason, release the key, and can be requeued for that sink only")
    func deadLetters() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir, sinks: ["kafka", "redis"])
        _ = try await outbox.append([entry(1, key: "A"), entry(2, key: "A")])
        _ = try await outbox.take(2, from: "kafka")
        outbox.retry("kafka", 1, after: 0)
        outbox.ack("kafka", 2)
        let retried = try await outbox.take(1, from: "kafka")
        #expect(retried.map(\.sequence) == [1])
        try await outbox.deadLetter("kafka", 1, reason: "MSG_SIZE_TOO_LARGE: broker refused")
        #expect(outbox.status().sinks.first { $0.name == "kafka" }?.watermark == 2)
        let dead = try outbox.deadLetters(for: "kafka")
        #expect(dead.count == 1)
        #expect(dead.first?.reason == "MSG_SIZE_TOO_LARGE: broker refused")
        #expect(dead.first?.record.payload == payload(1))
        #expect(outbox.status().sinks.first { $0.name == "kafka" }?.deadLetters == 1)

        let requeued = try await outbox.requeue("kafka")
        #expect(requeued == [3])
        let again = try await outbox.take(1, from: "kafka")
        #expect(again.first?.payload == payload(1))
        #expect(again.first?.routing == ["kafka"])
        #expect(try outbox.deadLetters(for: "kafka").allSatisfy(\.requeued))
        // Redis sees 1 and 2 once, never the requeued copy.
        let redis = try await outbox.take(3, from: "redis", seconds: 2)
        #expect(redis.map(\.sequence) == [1, 2])
        await outbox.close()
    }

    @Test("Rewind by sequence and by time delivers again, and persists at once")
    func rewind() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir)
        _ = try await outbox.append((1...5).map { entry($0, key: "k\($0)") })
        try await Task.sleep(for: .milliseconds(20))
        let middle = Int64(Date().timeIntervalSince1970 * 1000)
        try await Task.sleep(for: .milliseconds(20))
        _ = try await outbox.append((6...8).map { entry($0, key: "k\($0)") })
        for record in try await outbox.take(8, from: "s") { outbox.ack("s", record.sequence) }
        #expect(try await outbox.isIdle("s"))

        try await outbox.rewind("s", toSequence: 3)
        let again = try await outbox.take(6, from: "s")
        #expect(again.map(\.sequence) == [3, 4, 5, 6, 7, 8])
        for record in again { outbox.ack("s", record.sequence) }
        try await outbox.rewind("s", toTime: middle)
        #expect(try await outbox.take(3, from: "s").map(\.sequence) == [6, 7, 8])
        await outbox.close()
    }

    @Test("Rewinding past what the sink delivered skips nothing")
    func rewindNeverSkips() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir)
        _ = try await outbox.append((1...6).map { entry($0, key: "k\($0)") })
        for record in try await outbox.take(2, from: "s") { outbox.ack("s", record.sequence) }
        try await outbox.rewind("s", toSequence: 5)
        #expect(outbox.status().sinks[0].watermark == 2)
        #expect(try await outbox.take(4, from: "s").map(\.sequence) == [3, 4, 5, 6])
        await outbox.close()
    }

    @Test("Segments rotate at the configured size and all records read back in order")
    func rotation() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        do {
            let outbox = try open(dir) { $0.segmentBytes = 16 * 1024 }
            for n in 0..<100 { _ = try await outbox.append([entry(n, size: 1200)]) }
            await outbox.close()
        }
        #expect(dir.files("segments").count >= 7)
        let outbox = try open(dir) { $0.segmentBytes = 16 * 1024 }
        let records = try await outbox.take(100, from: "s")
        #expect(records.map(\.sequence) == Array(1...100))
        #expect(records.map(\.payload) == (0..<100).map { payload($0, size: 1200) })
        await outbox.close()
    }

    @Test("Segments every sink passed are deleted once retention allows; never before")
    func retention() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir, sinks: ["a", "b"]) {
            $0.segmentBytes = 8 * 1024
            $0.retentionSeconds = 0
        }
        for n in 0..<40 { _ = try await outbox.append([entry(n, size: 1000)]) }
        let segments = dir.files("segments").count
        #expect(segments >= 5)
        for record in try await outbox.take(40, from: "a") { outbox.ack("a", record.sequence) }
        try await Task.sleep(for: .milliseconds(700))
        // Sink b has not delivered anything: nothing may go.
        #expect(dir.files("segments").count == segments)
        for record in try await outbox.take(40, from: "b") { outbox.ack("b", record.sequence) }
        // Maintenance runs every 200 ms; give it time even on a loaded machine.
        let deadline = Date().addingTimeInterval(10)
        while dir.files("segments").count > 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(dir.files("segments").count == 1)
        // The log goes on where it was.
        #expect(try await outbox.append([entry(99)]) == [41])
        await outbox.close()
    }

    @Test("A rewind keeps what it will deliver again: deletion also waits for the cursor in memory")
    func rewindHoldsSegments() async throws {
        // Found by the power-cut run: segments were deleted by the persisted cursors
        // alone, so a deletion between a rewind and the write of its cursor took the
        // records the rewind was about to deliver again.
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir) {
            $0.segmentBytes = 8 * 1024
            $0.retentionSeconds = 0
            $0.maintenanceMilliseconds = 600_000
        }
        for n in 0..<40 { _ = try await outbox.append([entry(n, size: 1000)]) }
        for record in try await outbox.take(40, from: "s") { outbox.ack("s", record.sequence) }
        outbox.persistCursors()
        // Hold the I/O queue: the rewind's cursor write waits behind it, as it can behind a group commit.
        let gate = DispatchSemaphore(value: 0)
        outbox.io.async { gate.wait() }
        let rewind = Task { try await outbox.rewind("s", toSequence: 1) }
        while outbox.status().sinks.first?.watermark != 0 { try await Task.sleep(for: .milliseconds(5)) }
        let segments = dir.files("segments").count
        try outbox.collectGarbage(now: Outbox.nowMilliseconds() + 1)
        #expect(dir.files("segments").count == segments)
        gate.signal()
        try await rewind.value
        await outbox.close()
        // After a restart (nothing in memory), the rewind's records are all there to deliver.
        let reopened = try open(dir)
        #expect(try await reopened.take(40, from: "s").map(\.sequence) == Array(1...40))
        await reopened.close()
    }

    @Test("Delivered records are kept for the retention window and can be replayed")
    func retentionKeeps() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir) {
            $0.segmentBytes = 8 * 1024
            $0.retentionSeconds = 3600
        }
        for n in 0..<40 { _ = try await outbox.append([entry(n, size: 1000)]) }
        for record in try await outbox.take(40, from: "s") { outbox.ack("s", record.sequence) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(dir.files("segments").count >= 5)
        try await outbox.rewind("s", toSequence: 1)
        #expect(try await outbox.take(40, from: "s").count == 40)
        await outbox.close()
    }

    @Test("A full outbox refuses appends fast with a distinct error and keeps what it has")
    func full() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir) { $0.maxBytes = 20 * 1024 }
        var accepted: [UInt64] = []
        var refusal: OutboxError?
        for n in 0..<100 {
            do {
                accepted += try await outbox.append([entry(n, size: 1000)])
            } catch let error as OutboxError {
                refusal = error
                break
            }
        }
        #expect(refusal?.code == .full)
        #expect(refusal?.isBackpressure == true)
        #expect(accepted.count >= 15 && accepted.count < 20)
        let records = try await outbox.take(accepted.count, from: "s")
        #expect(records.map(\.sequence) == accepted)
        await outbox.close()
    }

    @Test("The free-space margin refuses appends with disk_low")
    func diskLow() async throws {
        let dir = try TemporaryDirectory("outbox")
        defer { dir.remove() }
        let outbox = try open(dir) { $0.minFreeBytes = Int64.max / 2 }
        let error = await #expect(throws: OutboxError.self) {
            _ = try await outbox.append([entry(1)])
        }
        #expect(error?.code == .diskLow)
        await outbox.close()
    }
}
