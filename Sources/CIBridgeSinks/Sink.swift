import CIBridgeOutbox

/// A destination the outbox's records are published to (Kafka, Redis, …).
///
/// Every sink has the same shape: it pulls its records from the outbox
/// (``Outbox/batches(for:limit:)``), publishes them, and reports each
/// attempt's outcome to ``Outbox/resolve(_:_:_:)``, the one place where
/// outcomes become acknowledgements, retries and dead letters, logged and
/// counted alike for every sink. ``SinkFactory`` (CIBridgeConfiguration) makes
/// sinks from configuration, for `serve`, `replay` and the benchmarks, so a
/// new destination touches its own module and the factory, nothing else.
public protocol Sink: Sendable {
    /// The outbox sink it publishes for: its cursor and dead-letter log.
    var name: String { get }
    /// The outbox it publishes from.
    var outbox: Outbox { get }
    /// Whether the destination answered the last attempt (`/readyz`, metrics).
    var isConnected: Bool { get }
    /// The server its connections write to now, e.g. the Redis primary that
    /// Sentinel named (`/readyz`, metrics); `nil` when there is none to name.
    var endpoint: String? { get }
    /// Publishes until the task is cancelled or the outbox closes, then waits
    /// a bounded time for what is in flight; anything unconfirmed stays
    /// pending in the outbox for the next start.
    func run() async throws
}

extension Sink {
    public var endpoint: String? { nil }

    /// What the outbox resolved for this sink since it was opened.
    public var statistics: SinkStatistics { outbox.statistics(name) }
}
