/// Sees every sink's records as they are handed out and as their attempts are
/// resolved: the one place from which publish spans (or anything else per
/// delivery attempt) are made for every sink alike, without touching the
/// adapters. Called on the sinks' threads; must not block.
public protocol DeliveryObserver: Sendable {
    /// `records` were handed to `sink` to publish (``Outbox/batches(for:limit:)``).
    func handedOut(sink: String, records: [OutboxRecord])
    /// The attempt of `sink` to publish `sequence` ended with `outcome` (``Outbox/resolve(_:_:_:)``).
    func resolved(sink: String, sequence: UInt64, outcome: DeliveryOutcome)
}
