import Synchronization

/// What the outbox resolved for one sink since it was opened: counted in
/// ``Outbox/resolve(_:_:_:)``, so every sink counts the same things the same way.
public final class SinkStatistics: Sendable {
    /// Records the destination confirmed (duplicates included).
    public var delivered: Int { counters.delivered.load(ordering: .relaxed) }
    /// Of those, records the destination already had (deduplicated retries and replays).
    public var duplicates: Int { counters.duplicates.load(ordering: .relaxed) }
    /// Attempts that failed and were scheduled again.
    public var retried: Int { counters.retried.load(ordering: .relaxed) }
    /// Records given up on (in the sink's dead-letter log).
    public var deadLettered: Int { counters.deadLettered.load(ordering: .relaxed) }

    private let counters = Counters()

    /// Atomics rather than a lock: resolutions arrive from the sinks' own threads
    /// (librdkafka's poll thread, Redis lanes) at the delivery rate.
    private final class Counters: Sendable {
        let delivered = Atomic<Int>(0)
        let duplicates = Atomic<Int>(0)
        let retried = Atomic<Int>(0)
        let deadLettered = Atomic<Int>(0)
    }

    init() {}

    func count(_ outcome: DeliveryOutcome) {
        switch outcome {
        case .delivered: counters.delivered.add(1, ordering: .relaxed)
        case .duplicate:
            counters.delivered.add(1, ordering: .relaxed)
            counters.duplicates.add(1, ordering: .relaxed)
        case .retry: counters.retried.add(1, ordering: .relaxed)
        case .deadLetter: counters.deadLettered.add(1, ordering: .relaxed)
        }
    }
}
