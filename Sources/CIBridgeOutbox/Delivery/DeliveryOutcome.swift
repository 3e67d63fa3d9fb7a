/// How a sink's attempt at one record ended: what every sink reports to
/// ``Outbox/resolve(_:_:_:)``, the one place where outcomes become cursor
/// moves, retries and dead letters, logged and counted the same way for every sink.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The destination has the record.
    case delivered
    /// The destination had it already (a retry or replay it deduplicated): delivered.
    case duplicate
    /// Not now: the record comes back after the failure's delay, or the outbox's backoff.
    case retry(DeliveryFailure)
    /// Never: the record goes to the sink's dead-letter log with the failure as its reason.
    case deadLetter(DeliveryFailure)
}

/// Why a delivery failed: the destination's stable error code (`_MSG_TIMED_OUT`,
/// `WRONGTYPE`, `connection`, …) and one line for people.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: String
    public let message: String
    /// Retry after this many milliseconds instead of the outbox's backoff
    /// (a full local queue clears in milliseconds; a backoff would wait seconds).
    public let retryAfterMilliseconds: Int64?

    public init(code: String, message: String, retryAfterMilliseconds: Int64? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public var description: String { "\(code): \(message)" }
}
