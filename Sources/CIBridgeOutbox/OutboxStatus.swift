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
