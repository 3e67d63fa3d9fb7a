/// Read-only access to an outbox directory, safe while `cibridge serve` runs:
/// it takes no lock and repairs nothing (recovery is the owner's job).
public struct OutboxInspector: Sendable {
    public let directory: String
    /// The sinks that have a cursor or a dead-letter log.
    public let sinks: [String]
    let segments: [Segment]
    let watermarks: [String: UInt64]
    let quarantined: Int
    let routed: [RoutedRecord]
    let deadLetterCounts: [String: Int]
    /// What recovery would do on the next start. (While the service is writing,
    /// the last segment's newest frame can look cut short: that is not damage.)
    public let pendingRepairs: [String]

    let fileSystem: any OutboxFileSystem

    /// Reads the outbox in `directory` through `fileSystem`.
    public init(directory: String, fileSystem: any OutboxFileSystem = PosixFileSystem()) throws(OutboxError) {
        let paths = OutboxPaths(directory: directory)
        guard fileSystem.exists(paths.segments) else {
            throw OutboxError(.notAnOutbox, "\(directory) is not an outbox (no segments/ directory)")
        }
        self.directory = directory
        self.fileSystem = fileSystem
        let names = Set(paths.sinks(in: paths.cursors, suffix: CursorFile.suffix, fileSystem: fileSystem))
            .union(paths.sinks(in: paths.deadLetters, suffix: DeadLetterLog.suffix, fileSystem: fileSystem))
        let sinks = names.filter(Outbox.isValidSinkName).sorted()
        let recovered = try Outbox.recover(
            directory: directory, configuration: OutboxConfiguration(sinks: sinks), repair: false, fileSystem: fileSystem)
        self.sinks = sinks
        self.segments = recovered.segments
        self.watermarks = recovered.watermarks
        self.quarantined = recovered.report.quarantinedTotal
        self.routed = recovered.routed
        self.deadLetterCounts = recovered.deadLetters
        self.pendingRepairs = recovered.report.notes
    }

    /// Records from `sequence` (the oldest kept when `nil`), at most `limit`.
    public func records(from sequence: UInt64? = nil, limit: Int = .max) throws(OutboxError) -> [OutboxRecord] {
        var records: [OutboxRecord] = []
        try forEachRecord(from: sequence ?? 0) { record in
            records.append(record)
            return records.count < limit
        }
        return records
    }

    /// Calls `body` with each record from `first` on, one segment in memory at a
    /// time, until it returns `false`.
    func forEachRecord(from first: UInt64, _ body: (OutboxRecord) -> Bool) throws(OutboxError) {
        for segment in segments where segment.recordCount > 0 && segment.lastSequence >= first {
            let bytes = try segment.file.read(count: Int(segment.endOffset - Segment.headerSize), at: Segment.headerSize)
            var goOn = true
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while goOn, case .record(let record, let size) = RecordFrame.decode(buffer, at: offset, maxBody: buffer.count) {
                    if record.sequence >= first { goOn = body(record) }
                    offset += size
                }
            }
            if !goOn { return }
        }
    }

    /// Dead letters of `sink`, or of every sink.
    public func deadLetters(sink: String? = nil) throws(OutboxError) -> [DeadLetter] {
        var all: [DeadLetter] = []
        for name in sinks where sink == nil || sink == name {
            all += try Outbox.readDeadLetters(directory: directory, sink: name, fileSystem: fileSystem)
        }
        return all
    }

    /// Records, bytes, segments, and per sink: pending count, oldest pending age,
    /// dead letters. Built exactly as the running service builds its own
    /// (``Outbox/status()``), from what recovery read.
    public func status(now: Int64 = Outbox.nowMilliseconds()) -> OutboxStatus {
        let lastWritten = segments.last { $0.recordCount > 0 }?.lastSequence ?? 0
        return OutboxStatus(
            directory: directory, segments: segments, lastWritten: lastWritten,
            sinks: sinks.map {
                OutboxStatus.SinkInput(name: $0, watermark: watermarks[$0] ?? 0, routingName: $0, stopAfter: nil)
            },
            routed: routed, deadLetters: deadLetterCounts, quarantined: quarantined, now: now)
    }
}
