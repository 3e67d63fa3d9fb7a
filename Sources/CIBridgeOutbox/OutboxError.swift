/// Why an outbox operation failed: a stable ``code`` and a one-line message.
public struct OutboxError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The outbox reached its size limit; nothing was appended. Retry later (HTTP 503).
        public static let full = Code(rawValue: "outbox_full")
        /// The filesystem is below the free-space margin; nothing was appended (HTTP 503).
        public static let diskLow = Code(rawValue: "disk_low")
        /// A system call failed (`errno` in the message); the outbox may be unusable until restart.
        public static let io = Code(rawValue: "io_error")
        /// Another process holds the outbox directory.
        public static let locked = Code(rawValue: "locked")
        /// The outbox is closed.
        public static let closed = Code(rawValue: "closed")
        /// A sink name that the outbox was not opened with.
        public static let unknownSink = Code(rawValue: "unknown_sink")
        /// A sink added at run time under a name the outbox already has.
        public static let sinkExists = Code(rawValue: "sink_exists")
        /// A sink name outside 1-64 of `A-Z a-z 0-9 . _ -`.
        public static let invalidSinkName = Code(rawValue: "invalid_sink_name")
        /// A directory that holds no outbox (no `segments/`).
        public static let notAnOutbox = Code(rawValue: "not_an_outbox")
        /// A sequence number or time outside the log.
        public static let outOfRange = Code(rawValue: "out_of_range")
        /// A file of the outbox is not in the expected format.
        public static let corrupt = Code(rawValue: "corrupt")
        /// A record larger than a segment can hold.
        public static let recordTooLarge = Code(rawValue: "record_too_large")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Whether retrying the same append later can succeed (full, disk low).
    public var isBackpressure: Bool { code == .full || code == .diskLow }
}
