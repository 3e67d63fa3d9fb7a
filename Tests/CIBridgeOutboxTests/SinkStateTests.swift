@testable import CIBridgeOutbox
import Testing

/// The per-sink state machine, driven directly: no disk, no clock.
@Suite("Sink state machine")
struct SinkStateTests {
    func record(_ sequence: UInt64, _ key: String, routing: [String] = []) -> OutboxRecord {
        OutboxRecord(sequence: sequence, appendTime: 0, key: key, routing: routing, payload: [])
    }

    @Test("A retry holds back its key only; the held record follows once the retry is acked")
    func holdsKey() {
        var state = SinkState(name: "s", watermark: 0)
        #expect(state.receive([record(1, "A"), record(2, "B")], through: 2).map(\.sequence) == [1, 2])
        #expect(state.retry(1, dueAt: 1_000) == 1)
        state.ack(2)
        #expect(state.receive([record(3, "A"), record(4, "B")], through: 4).map(\.sequence) == [4])
        #expect(state.dispatch(now: 999, limit: 10).isEmpty)
        #expect(state.dispatch(now: 1_000, limit: 10).map(\.sequence) == [1])
        // Handed out again but not acked: 3 still waits.
        #expect(state.dispatch(now: 2_000, limit: 10).isEmpty)
        #expect(state.ack(4) == false)
        // 1 got through and nothing else is in flight: wake the sink for 3.
        #expect(state.ack(1) == true)
        #expect(state.dispatch(now: 2_000, limit: 10).map(\.sequence) == [3])
        state.ack(3)
        #expect(state.watermark == 4)
        #expect(state.outstanding == 0)
    }

    @Test("A retry that gets through makes every waiting retry due at once (the destination is back)")
    func expediteAfterOutage() {
        var state = SinkState(name: "s", watermark: 0)
        _ = state.receive([record(1, "A"), record(2, "B"), record(3, "C")], through: 3)
        state.retry(1, dueAt: 100)
        state.retry(2, dueAt: 60_000)
        state.retry(3, dueAt: 90_000)
        #expect(state.nextRetryDue == 100)
        #expect(state.dispatch(now: 100, limit: 10).map(\.sequence) == [1])
        #expect(state.ack(1) == true)
        #expect(state.nextRetryDue == .min)
        #expect(state.dispatch(now: 101, limit: 10).map(\.sequence) == [2, 3])
        // A failure after that waits for its own backoff again.
        state.retry(2, dueAt: 5_000)
        #expect(state.dispatch(now: 101, limit: 10).isEmpty)
        #expect(state.nextRetryDue == 5_000)
    }

    @Test("The sink says its destination is back: every waiting retry is due at once, later ones keep their time")
    func expediteOnReconnect() {
        var state = SinkState(name: "s", watermark: 0)
        #expect(state.expediteRetries() == false)
        _ = state.receive([record(1, "A"), record(2, "B")], through: 2)
        state.retry(1, dueAt: 60_000)
        state.retry(2, dueAt: 45_000)
        #expect(state.dispatch(now: 0, limit: 10).isEmpty)
        #expect(state.expediteRetries() == true)
        #expect(state.nextRetryDue == .min)
        #expect(state.dispatch(now: 0, limit: 10).map(\.sequence) == [1, 2])
        // Failing again after the expedite: back to their own backoff.
        state.retry(1, dueAt: 120_000)
        #expect(state.nextRetryDue == 120_000)
        #expect(state.dispatch(now: 0, limit: 10).isEmpty)
    }

    @Test("Released keys drain in full batches: no wake-up per key, order kept within each key")
    func releaseInBatches() {
        var state = SinkState(name: "s", watermark: 0)
        // 300 keys, each with one record in retry and one held behind it.
        let first = (1...300).map { record(UInt64($0), "k\($0)") }
        _ = state.receive(first, through: 300)
        for sequence in 1...300 { state.retry(UInt64(sequence), dueAt: 0) }
        let behind = (301...600).map { record(UInt64($0), "k\($0 - 300)") }
        #expect(state.receive(behind, through: 600).isEmpty)
        #expect(state.outstanding == 600)
        #expect(state.dispatch(now: 0, limit: 1_000).count == 300)
        let wakes = (1...300).filter { state.ack(UInt64($0)) }
        // Not one per key: first once 256 are released, then (the sink is awake by then) until they are taken.
        #expect(wakes.first == 256)
        #expect(wakes.last == 300)
        let released = state.dispatch(now: 0, limit: 1_000).map(\.sequence)
        #expect(released == Array(301...600))
        for sequence in released { state.ack(sequence) }
        #expect(state.watermark == 600)
        #expect(state.outstanding == 0)
    }

    @Test("A key blocked again while released keeps its order")
    func reblockedKey() {
        var state = SinkState(name: "s", watermark: 0)
        _ = state.receive([record(1, "A")], through: 1)
        state.retry(1, dueAt: 0)
        #expect(state.receive([record(2, "A"), record(3, "A")], through: 3).isEmpty)
        #expect(state.dispatch(now: 0, limit: 10).map(\.sequence) == [1])
        state.ack(1)
        #expect(state.dispatch(now: 0, limit: 1).map(\.sequence) == [2])
        state.retry(2, dueAt: 0)
        // 3 must wait for 2's retry.
        #expect(state.dispatch(now: 0, limit: 10).map(\.sequence) == [2])
        #expect(state.dispatch(now: 0, limit: 10).isEmpty)
        #expect(state.ack(2) == true)
        #expect(state.dispatch(now: 0, limit: 10).map(\.sequence) == [3])
    }

    @Test("Gaps and records for other sinks resolve at once; the watermark is contiguous")
    func gapsAndRouting() {
        var state = SinkState(name: "kafka", watermark: 0)
        let ready = state.receive([record(1, "A"), record(3, "B", routing: ["redis"]), record(4, "C")], through: 5)
        #expect(ready.map(\.sequence) == [1, 4])
        state.ack(4)
        #expect(state.watermark == 0)
        state.ack(1)
        #expect(state.watermark == 5)  // 2 was a gap, 3 was redis's, 5 a gap up to `through`
    }

    @Test("A dead letter releases its key and counts as resolved")
    func deadLetter() {
        var state = SinkState(name: "s", watermark: 0)
        _ = state.receive([record(1, "A")], through: 1)
        state.retry(1, dueAt: 0)
        #expect(state.receive([record(2, "A")], through: 2).isEmpty)
        #expect(state.deadLetter(1)?.sequence == 1)
        #expect(state.dispatch(now: 0, limit: 10).map(\.sequence) == [2])
        #expect(state.watermark == 1)
    }

    @Test("Rewind goes back, never forward")
    func rewind() {
        var state = SinkState(name: "s", watermark: 10)
        state.rewind(to: 20)
        #expect(state.watermark == 10)
        #expect(state.nextToRead == 11)
        state.rewind(to: 4)
        #expect(state.watermark == 3)
        #expect(state.nextToRead == 4)
    }

    @Test("A batch is due retries first, then new records up to the limit; what does not fit is read again")
    func handOut() {
        var state = SinkState(name: "s", watermark: 0)
        _ = state.receive([record(1, "A")], through: 1)
        state.retry(1, dueAt: 0)
        let batch = state.handOut(now: 0, limit: 3, records: [record(2, "B"), record(3, "C"), record(4, "D")][...], through: 4)
        #expect(batch.map(\.sequence) == [1, 2, 3])
        #expect(state.nextToRead == 4)
        #expect(state.handOut(now: 0, limit: 3, records: [record(4, "D")][...], through: 6).map(\.sequence) == [4])
        #expect(state.nextToRead == 7)
    }
}
