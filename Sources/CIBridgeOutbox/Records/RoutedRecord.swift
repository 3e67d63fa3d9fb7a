/// A record appended for some sinks only (a requeued dead letter names its
/// one sink). Kept in memory, oldest first, so that a sink's pending count
/// can skip records that are not for it without reading the log.
struct RoutedRecord: Sendable, Hashable {
    let sequence: UInt64
    let sinks: [String]
}
