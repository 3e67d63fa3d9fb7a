/// One record of the outbox log.
public struct OutboxRecord: Sendable, Hashable {
    /// Position in the log: 1, 2, 3, … never reused.
    public let sequence: UInt64
    /// When it was appended, milliseconds since the Unix epoch.
    public let appendTime: Int64
    /// The ordering key (the envelope's `partitionkey`).
    public let key: String
    /// The sinks this record is for; empty means every sink.
    public let routing: [String]
    /// The bytes to publish (the envelope's canonical JSON).
    public let payload: [UInt8]
    /// What sinks route it by (``RecordAttributes/none`` for records from before they existed).
    public let attributes: RecordAttributes

    public init(
        sequence: UInt64, appendTime: Int64, key: String, routing: [String], payload: [UInt8],
        attributes: RecordAttributes = .none
    ) {
        self.sequence = sequence
        self.appendTime = appendTime
        self.key = key
        self.routing = routing
        self.payload = payload
        self.attributes = attributes
    }

    /// Whether the record is for `sink`.
    public func isRouted(to sink: String) -> Bool {
        routing.isEmpty || routing.contains(sink)
    }
}

/// What ``Outbox/append(_:)`` takes: a record before it has a sequence number.
public struct OutboxEntry: Sendable, Hashable {
    public let key: String
    public let routing: [String]
    public let payload: [UInt8]
    public let attributes: RecordAttributes

    /// - Parameters:
    ///   - routing: the sinks this record is for; empty (the default) means all.
    ///   - attributes: what sinks route it by, stored with it (``RecordAttributes``).
    public init(key: String, payload: [UInt8], routing: [String] = [], attributes: RecordAttributes = .none) {
        self.key = key
        self.routing = routing
        self.payload = payload
        self.attributes = attributes
    }
}
