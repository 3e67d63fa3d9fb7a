/// Read-only access to an outbox directory, safe while `cibridge serve` runs:
/// it takes no lock and repairs nothing (recovery is the owner's job).
public struct OutboxInspector: Sendable {
    public let directory: String
    /// The sinks that have a cursor or a dead-letter log.
    public let sinks: [String]
    let segments: [Segment]
    let watermarks: [String: UInt64]
    let quarantined: Int
    /// What recovery would do on the next start.
    public let pendingRepairs: [String]

    public init(directory: String) throws(OutboxError) {
        guard SystemFile.exists(directory + "/segments") else {
            throw OutboxError(.outOfRange, "\(directory) is not an outbox (no segments/ directory)")
        }
        self.directory = directory
        var names = Set<String>()
        for name in (try? SystemFile.list(directory + "/cursors")) ?? [] where name.hasSuffix(CursorFile.suffix) {
            names.insert(String(name.dropLast(CursorFile.suffix.count)))
        }
        for name in (try? SystemFile.list(directory + "/dead-letters")) ?? [] where name.hasSuffix(DeadLetterLog.suffix) {
            names.insert(String(name.dropLast(DeadLetterLog.suffix.count)))
        }
        let sinks = names.filter(Outbox.isValidSinkName).sorted()
        let recovered = try Outbox.recover(
            directory: directory, configuration: OutboxConfiguration(sinks: sinks), repair: false)
        self.sinks = sinks
        self.segments = recovered.segments
        self.watermarks = recovered.watermarks
        self.quarantined = recovered.report.quarantinedTotal
        self.pendingRepairs = recovered.report.notes
    }

    /// Records from `sequence` (the oldest kept when `nil`), at most `limit`.
    public func records(from sequence: UInt64? = nil, limit: Int = .max) throws(OutboxError) -> [OutboxRecord] {
        var records: [OutboxRecord] = []
        let first = sequence ?? 0
        for segment in segments where segment.recordCount > 0 && segment.lastSequence >= first {
            let bytes = try segment.file.read(count: Int(segment.endOffset - Segment.headerSize), at: Segment.headerSize)
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while records.count < limit,
                    case .record(let record, let size) = RecordFrame.decode(buffer, at: offset, maxBody: buffer.count)
                {
                    if record.sequence >= first { records.append(record) }
                    offset += size
                }
            }
            if records.count >= limit { break }
        }
        return records
    }

    /// Dead letters of `sink`, or of every sink.
    public func deadLetters(sink: String? = nil) throws(OutboxError) -> [DeadLetter] {
        var all: [DeadLetter] = []
        for name in sinks where sink == nil || sink == name {
            all += try Outbox.readDeadLetters(directory: directory, sink: name)
        }
        return all
    }

    /// Records, bytes, segments, and per sink: pending count, oldest pending age, dead letters.
    public func status(now: Int64 = Outbox.nowMilliseconds()) throws(OutboxError) -> OutboxStatus {
        let all = try records()
        let sinkStatus = try sinks.map { name throws(OutboxError) -> OutboxStatus.Sink in
            let watermark = watermarks[name] ?? 0
            let pending = all.filter { $0.sequence > watermark && $0.isRouted(to: name) }
            let dead = try Outbox.readDeadLetters(directory: directory, sink: name).filter { !$0.requeued }.count
            return OutboxStatus.Sink(
                name: name, watermark: watermark, pending: pending.count,
                oldestPendingAgeMilliseconds: pending.first.map { now - $0.appendTime }, deadLetters: dead)
        }
        return OutboxStatus(
            directory: directory, firstSequence: all.first?.sequence, lastSequence: all.last?.sequence, records: all.count,
            bytes: segments.reduce(0) { $0 + $1.bytes }, segments: segments.count, sinks: sinkStatus, quarantined: quarantined)
    }
}
