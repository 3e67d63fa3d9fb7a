/// A snapshot of an outbox, for `cibridge outbox status` and metrics.
public struct OutboxStatus: Sendable, Hashable, Codable {
    public struct Sink: Sendable, Hashable, Codable {
        public let name: String
        /// Every record up to this sequence is delivered or dead-lettered (as persisted).
        public let watermark: UInt64
        /// Records routed to this sink above the watermark.
        public let pending: Int
        /// Age in milliseconds of the oldest pending record, if any.
        public let oldestPendingAgeMilliseconds: Int64?
        /// Dead letters not requeued.
        public let deadLetters: Int
    }

    public let directory: String
    /// The first and last sequence in the log (`nil` when it holds no records).
    public let firstSequence: UInt64?
    public let lastSequence: UInt64?
    public let records: Int
    public let bytes: Int64
    public let segments: Int
    public let sinks: [Sink]
    /// Damaged byte ranges moved to `quarantine/`, over the outbox's life.
    public let quarantined: Int
}

extension OutboxStatus {
    /// What a sink's status is built from.
    struct SinkInput {
        let name: String
        let watermark: UInt64
        /// Whose routing applies (a replay's target sink).
        let routingName: String
        /// Records after this are not for the sink (a replay's end).
        let stopAfter: UInt64?
    }

    /// The one way a status is computed, by the running outbox (from memory:
    /// ``Outbox/status()``, for `/readyz` and `/metrics`) and by
    /// ``OutboxInspector`` (from the same structures rebuilt from disk, for
    /// `cibridge outbox status`), so the two cannot disagree.
    ///
    /// A sink's pending records are those above its watermark, up to the last
    /// written, that are routed to it; the oldest one's age comes from the
    /// segments' block times (see ``Segment/blockTimes``).
    init(
        directory: String, segments: [Segment], lastWritten: UInt64, sinks: [SinkInput], routed: [RoutedRecord],
        deadLetters: [String: Int], quarantined: Int, now: Int64
    ) {
        let records = segments.reduce(0) { $0 + $1.recordCount }
        var sinkStatus: [Sink] = []
        for sink in sinks.sorted(by: { $0.name < $1.name }) {
            let last = min(lastWritten, sink.stopAfter ?? .max)
            var pending = 0
            var oldest: Int64?
            if last > sink.watermark {
                let range = (sink.watermark + 1)...last
                for segment in segments where segment.recordCount > 0 && segment.lastSequence >= range.lowerBound {
                    if segment.baseSequence > range.upperBound { break }
                    let count = segment.recordCount(in: range)
                    if count > 0, oldest == nil {
                        oldest = segment.approximateAppendTime(of: max(range.lowerBound, segment.baseSequence))
                    }
                    pending += count
                }
                // Routed records are few (requeued dead letters): a linear pass is fine.
                for record in routed where range.contains(record.sequence) && !record.sinks.contains(sink.routingName) {
                    pending -= 1
                }
            }
            sinkStatus.append(Sink(
                name: sink.name, watermark: sink.watermark, pending: max(0, pending),
                // max(0, …): after the wall clock steps back, "appended in the future" reads as just now.
                oldestPendingAgeMilliseconds: pending > 0 ? oldest.map { max(0, now - $0) } : nil,
                deadLetters: deadLetters[sink.name] ?? 0))
        }
        let first = segments.first { $0.recordCount > 0 }.map { $0.baseSequence }
        self.init(
            directory: directory, firstSequence: first, lastSequence: records > 0 ? lastWritten : nil, records: records,
            bytes: segments.reduce(0) { $0 + $1.bytes }, segments: segments.count, sinks: sinkStatus, quarantined: quarantined)
    }
}
