/// A sink's pending records as an async sequence of batches: each element is
/// what ``Outbox/nextBatch(for:limit:)`` returns; the sequence ends when the
/// outbox closes or the consuming task is cancelled.
///
/// ```swift
/// for try await batch in outbox.batches(for: "kafka") {
///     for record in batch { publish(record) }   // then ack / retry / deadLetter each
/// }
/// ```
public struct OutboxBatches: AsyncSequence, Sendable {
    public typealias Element = [OutboxRecord]

    let outbox: Outbox
    let sink: String
    let limit: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let outbox: Outbox
        let sink: String
        let limit: Int

        public mutating func next() async throws -> [OutboxRecord]? {
            let batch = try await outbox.nextBatch(for: sink, limit: limit)
            if batch.isEmpty { return nil }
            outbox.deliveryObserver?.handedOut(sink: sink, records: batch)
            return batch
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(outbox: outbox, sink: sink, limit: limit)
    }
}

extension Outbox {
    /// The pending records of `sink`, batch by batch (see ``OutboxBatches``).
    public func batches(for sink: String, limit: Int = 500) -> OutboxBatches {
        OutboxBatches(outbox: self, sink: sink, limit: limit)
    }
}
