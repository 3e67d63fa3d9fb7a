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
        #expect(state.ack(1) == true)
        #expect(state.dispatch(now: 2_000, limit: 10).map(\.sequence) == [3])
        state.ack(3)
        state.ack(4)
        #expect(state.watermark == 4)
        #expect(state.outstanding == 0)
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
}
