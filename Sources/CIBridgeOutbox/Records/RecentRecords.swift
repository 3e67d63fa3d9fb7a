/// The newest records of the log, kept in memory after they are written, so
/// that a sink that keeps up takes them from here instead of reading them
/// back from the segment: no file read, no decoding, no hop to the read
/// queue. A sink that falls behind (an outage, a restart, a rewind) reads
/// from the files until it is back within this window.
///
/// Holds at most ``maxRecords`` records and ``maxBytes`` payload bytes, always
/// a contiguous run of sequences ending at the last one written. The payloads
/// are the appenders' own arrays, shared, not copies.
struct RecentRecords: Sendable {
    static let maxRecords = 2048
    static let maxBytes = 2 << 20

    private var records: [OutboxRecord] = []
    /// Index of the oldest record kept (dropped ones stay until compaction).
    private var head = 0
    private var bytes = 0

    /// The sequence of the oldest record kept, if any.
    var firstSequence: UInt64? { head < records.count ? records[head].sequence : nil }

    /// Adds records just written, in sequence order. A gap (a failed write
    /// consumed sequences) starts the window again.
    mutating func append(_ written: [OutboxRecord]) {
        guard let first = written.first else { return }
        if let last = records.last, last.sequence + 1 != first.sequence { removeAll() }
        for record in written {
            records.append(record)
            bytes += record.payload.count
        }
        while records.count - head > Self.maxRecords || bytes > Self.maxBytes {
            bytes -= records[head].payload.count
            head += 1
        }
        if head > 1024 && head * 2 > records.count {
            records.removeFirst(head)
            head = 0
        }
    }

    /// Up to `limit` records from `sequence` on, when the window holds
    /// `sequence`; `nil` when it does not (the caller reads the files).
    func records(from sequence: UInt64, limit: Int) -> ArraySlice<OutboxRecord>? {
        guard let first = firstSequence, sequence >= first else { return nil }
        let start = head + Int(sequence - first)
        guard start <= records.count else { return nil }
        return records[start..<min(records.count, start + limit)]
    }

    mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }
}
