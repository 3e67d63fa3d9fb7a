/// One sink's delivery progress: a pure state machine, no I/O.
///
/// Records arrive from the log in sequence order (``receive(_:)``), leave as
/// dispatchable batches (``dispatch(now:limit:)``) and come back resolved
/// (``ack(_:)``, ``retry(_:dueAt:)``, ``deadLetter(_:)``). The contiguous
/// low-watermark of resolved records is what the cursor file persists.
///
/// Ordering: while a record of key *K* waits for a retry, later records of *K*
/// that have not been dispatched yet are held back; records of other keys flow on.
struct SinkState: Sendable {
    let name: String
    /// Whose routing applies: the sink's own name, or for a replay the sink it replays for.
    let routingName: String
    /// For a replay: records after this sequence are not for this sink.
    let stopAfter: UInt64?
    /// Every sequence ≤ watermark is resolved (acknowledged, dead-lettered or not for this sink).
    private(set) var watermark: UInt64
    /// The next sequence to read from the log.
    private(set) var nextToRead: UInt64
    /// Resolved sequences above the watermark (out-of-order acknowledgements).
    private var resolvedAbove: Set<UInt64> = []
    /// Handed to the sink, not yet resolved.
    private(set) var inFlight: [UInt64: InFlight] = [:]
    /// Waiting for their retry time.
    private var retrying: [UInt64: Retrying] = [:]
    /// Read, but held back behind a retrying record of the same key; in order.
    private var held: [OutboxRecord] = []
    /// How many held records each key has.
    private var heldKeys: [String: Int] = [:]
    /// Keys with records in retry (counted: waiting or re-dispatched).
    private var blockedKeys: [String: Int] = [:]
    /// Bumped by ``rewind(to:)``, so reads planned before it are dropped.
    private(set) var generation = 0

    struct InFlight: Sendable {
        let record: OutboxRecord
        /// How many times it was retried before this dispatch (0 = first try).
        let attempts: Int
    }

    private struct Retrying: Sendable {
        let record: OutboxRecord
        let attempts: Int
        let dueAt: Int64
    }

    init(name: String, watermark: UInt64, routingName: String? = nil, stopAfter: UInt64? = nil) {
        self.name = name
        self.routingName = routingName ?? name
        self.stopAfter = stopAfter
        self.watermark = watermark
        self.nextToRead = watermark + 1
    }

    /// Records held or waiting to be retried: they count against the in-flight limit
    /// so one stuck key cannot make the sink read the whole log into memory.
    var outstanding: Int { inFlight.count + retrying.count + held.count }

    /// The earliest time a waiting retry becomes due.
    var nextRetryDue: Int64? { retrying.values.map(\.dueAt).min() }

    /// Takes records read from the log, in sequence order starting at ``nextToRead``.
    /// Gaps (quarantined records) and records for other sinks resolve at once.
    mutating func receive(_ records: [OutboxRecord], through lastSequence: UInt64) -> [OutboxRecord] {
        var ready: [OutboxRecord] = []
        for record in records where record.sequence >= nextToRead {
            // Any skipped sequence numbers were quarantined: nothing to deliver.
            for missing in nextToRead..<record.sequence { resolve(missing) }
            nextToRead = record.sequence + 1
            if !record.isRouted(to: routingName) || record.sequence > (stopAfter ?? .max) {
                resolve(record.sequence)
            } else if blockedKeys[record.key] != nil || heldKeys[record.key] != nil {
                held.append(record)
                heldKeys[record.key, default: 0] += 1
            } else {
                inFlight[record.sequence] = InFlight(record: record, attempts: 0)
                ready.append(record)
            }
        }
        if lastSequence >= nextToRead {
            for missing in nextToRead...lastSequence { resolve(missing) }
            nextToRead = lastSequence + 1
        }
        return ready
    }

    /// Due retries, then held records whose key is free, in sequence order.
    mutating func dispatch(now: Int64, limit: Int) -> [OutboxRecord] {
        var ready: [OutboxRecord] = []
        for (sequence, waiting) in retrying.sorted(by: { $0.key < $1.key }) where waiting.dueAt <= now {
            guard ready.count < limit else { break }
            retrying[sequence] = nil
            inFlight[sequence] = InFlight(record: waiting.record, attempts: waiting.attempts)
            ready.append(waiting.record)
        }
        if !held.isEmpty && ready.count < limit {
            var stillHeld: [OutboxRecord] = []
            var blockedNow = Set<String>()
            for record in held {
                if ready.count < limit, blockedKeys[record.key] == nil, !blockedNow.contains(record.key) {
                    inFlight[record.sequence] = InFlight(record: record, attempts: 0)
                    ready.append(record)
                    let count = heldKeys[record.key] ?? 1
                    heldKeys[record.key] = count > 1 ? count - 1 : nil
                } else {
                    blockedNow.insert(record.key)
                    stillHeld.append(record)
                }
            }
            held = stillHeld
        }
        return ready
    }

    /// The sink delivered `sequence`. Returns whether that released held-back records.
    @discardableResult
    mutating func ack(_ sequence: UInt64) -> Bool {
        guard let flight = inFlight.removeValue(forKey: sequence) else { return false }
        resolve(sequence)
        if flight.attempts > 0 {
            unblock(flight.record.key)
            return true
        }
        return false
    }

    /// The sink failed to deliver `sequence` for now; try again at `dueAt`.
    /// Returns the attempt number, or `nil` when the sequence is not in flight.
    @discardableResult
    mutating func retry(_ sequence: UInt64, dueAt: Int64) -> Int? {
        guard let flight = inFlight.removeValue(forKey: sequence) else { return nil }
        if flight.attempts == 0 { blockedKeys[flight.record.key, default: 0] += 1 }
        retrying[sequence] = Retrying(record: flight.record, attempts: flight.attempts + 1, dueAt: dueAt)
        return flight.attempts + 1
    }

    /// The record `sequence` while it is in flight or waiting for a retry.
    func record(_ sequence: UInt64) -> OutboxRecord? {
        inFlight[sequence]?.record ?? retrying[sequence]?.record
    }

    /// The attempt number the next retry of `sequence` would be.
    func nextAttempt(_ sequence: UInt64) -> Int? {
        inFlight[sequence].map { $0.attempts + 1 }
    }

    /// The sink gave up on `sequence`; returns the record (for the dead-letter log).
    mutating func deadLetter(_ sequence: UInt64) -> OutboxRecord? {
        if let flight = inFlight.removeValue(forKey: sequence) {
            if flight.attempts > 0 { unblock(flight.record.key) }
            resolve(sequence)
            return flight.record
        }
        if let waiting = retrying.removeValue(forKey: sequence) {
            unblock(waiting.record.key)
            resolve(sequence)
            return waiting.record
        }
        return nil
    }

    /// Delivers everything from `sequence` on again. Records before it keep
    /// their state: a rewind never skips a record that was not yet delivered.
    mutating func rewind(to sequence: UInt64) {
        // Everything above the new watermark is delivered again (at least once).
        watermark = min(watermark, sequence == 0 ? 0 : sequence - 1)
        resolvedAbove = []
        nextToRead = watermark + 1
        inFlight = [:]
        retrying = [:]
        held = []
        heldKeys = [:]
        blockedKeys = [:]
        generation += 1
    }

    private mutating func resolve(_ sequence: UInt64) {
        guard sequence > watermark else { return }
        if sequence == watermark + 1 {
            watermark = sequence
            while resolvedAbove.remove(watermark + 1) != nil { watermark += 1 }
        } else {
            resolvedAbove.insert(sequence)
        }
    }

    private mutating func unblock(_ key: String) {
        guard let count = blockedKeys[key] else { return }
        blockedKeys[key] = count > 1 ? count - 1 : nil
    }
}
