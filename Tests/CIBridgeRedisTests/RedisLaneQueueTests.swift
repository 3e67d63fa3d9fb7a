import CIBridgeOutbox
@testable import CIBridgeRedis
import Testing

/// The hand-over between the Redis sink's loop and one connection's lane.
@Suite("Redis lane queue")
struct RedisLaneQueueTests {
    func part(_ sequences: ClosedRange<UInt64>) -> [OutboxRecord] {
        sequences.map { OutboxRecord(sequence: $0, appendTime: 0, key: "k", routing: [], payload: []) }
    }

    @Test("Parts come out in order; poll never waits; next waits for a push; finish ends it once empty")
    func order() async {
        let queue = RedisLaneQueue()
        #expect(queue.poll() == nil)
        for n in 0..<200 { queue.push(part(UInt64(n * 10 + 1)...UInt64(n * 10 + 10))) }
        var seen: [UInt64] = []
        while let next = queue.poll() { seen += next.map(\.sequence) }
        #expect(seen == Array(1...2000))
        let waiting = Task { await queue.next()?.map(\.sequence) }
        try? await Task.sleep(for: .milliseconds(50))
        queue.push(part(5000...5001))
        #expect(await waiting.value == [5000, 5001])
        queue.push(part(6000...6000))
        queue.finish()
        #expect(await queue.next()?.map(\.sequence) == [6000])
        #expect(await queue.next() == nil)
    }
}
