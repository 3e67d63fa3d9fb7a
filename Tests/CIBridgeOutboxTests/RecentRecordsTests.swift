@testable import CIBridgeOutbox
import Testing

/// The in-memory window of newest records that sinks which keep up read from.
@Suite("Recent records")
struct RecentRecordsTests {
    func records(_ sequences: ClosedRange<UInt64>, size: Int = 10) -> [OutboxRecord] {
        sequences.map { OutboxRecord(sequence: $0, appendTime: 0, key: "k", routing: [], payload: [UInt8](repeating: 1, count: size)) }
    }

    @Test("Hands out a contiguous run from any sequence it holds, nothing for one it does not")
    func window() {
        var recent = RecentRecords()
        #expect(recent.records(from: 1, limit: 10) == nil)
        recent.append(records(5...9))
        #expect(recent.records(from: 7, limit: 10).map { $0.map(\.sequence) } == [7, 8, 9])
        #expect(recent.records(from: 5, limit: 2).map { $0.map(\.sequence) } == [5, 6])
        #expect(recent.records(from: 10, limit: 10).map { $0.map(\.sequence) } == [])
        #expect(recent.records(from: 4, limit: 10) == nil)
    }

    @Test("A gap in sequences (a failed write) starts the window again")
    func gap() {
        var recent = RecentRecords()
        recent.append(records(1...3))
        recent.append(records(6...7))
        #expect(recent.firstSequence == 6)
        #expect(recent.records(from: 2, limit: 10) == nil)
    }

    @Test("Bounded by records and bytes: the oldest go first")
    func bounded() {
        var recent = RecentRecords()
        let count = UInt64(RecentRecords.maxRecords)
        recent.append(records(1...(count + 100)))
        #expect(recent.firstSequence == 101)
        recent.removeAll()
        recent.append(records(1...20, size: RecentRecords.maxBytes / 10))
        #expect(recent.firstSequence == 11)
        #expect(recent.records(from: 11, limit: 100)?.count == 10)
    }
}
