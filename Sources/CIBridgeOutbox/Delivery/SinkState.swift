/// One sink's delivery progress: a pure state machine, no I/O.
///
/// Records arrive from the log in sequence order (``receive(_:)``), leave as
/// dispatchable batches (``dispatch(now:limit:)``) and come back resolved
/// (``ack(_:)``, ``retry(_:dueAt:)``, ``deadLetter(_:)``). The contiguous
/// low-watermark of resolved records is what the cursor file persists.
///
/// Ordering: while a record of key *K* waits for a retry, later records of *K*
/// that have not been dispatched yet are held back; records of other keys flow on.
///
/// After an outage every slot may be a retry or a held record: a retry that
/// gets through makes every waiting retry due at once, and released keys are
/// found without scanning what is still held, so the backlog drains in full
/// batches rather than one key at a time.
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
    /// Bumped when a retry gets through: retries scheduled before are due at once.
    private var expedited = 0
    /// Read, but held back behind a retrying record of the same key; per key, in order.
    private var held: [String: [OutboxRecord]] = [:]
    private var heldCount = 0
    /// Keys whose retries are resolved and that still have held records, in release order.
    private var releasable: [String] = []
    private var releasableHead = 0
    /// Held records of released keys, not yet dispatched (approximate: a wake-up hint).
    private(set) var releasedWaiting = 0
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
        /// ``expedited`` when it was scheduled.
        let epoch: Int
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
    var outstanding: Int { inFlight.count + retrying.count + heldCount }

    /// The earliest time a waiting retry becomes due (`Int64.min`: now).
    var nextRetryDue: Int64? {
        var earliest: Int64?
        for waiting in retrying.values {
            if waiting.epoch < expedited { return .min }
            earliest = min(earliest ?? waiting.dueAt, waiting.dueAt)
        }
        return earliest
    }

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
            } else if blockedKeys[record.key] != nil || held[record.key] != nil {
                held[record.key, default: []].append(record)
                heldCount += 1
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

    /// One batch for the sink: ``dispatch(now:limit:)`` first, then as many of
    /// `records` (new from the log, starting at ``nextToRead``; read through
    /// `through`) as the limit leaves room for. Records that do not fit are
    /// not taken: they are read again next time.
    mutating func handOut(
        now: Int64, limit: Int, records: ArraySlice<OutboxRecord>, through: UInt64
    ) -> [OutboxRecord] {
        var ready = dispatch(now: now, limit: limit)
        let room = limit - ready.count
        if records.count > room {
            let fitting = records.prefix(room)
            ready += receive(Array(fitting), through: fitting.last?.sequence ?? nextToRead - 1)
        } else {
            ready += receive(Array(records), through: through)
        }
        return ready
    }

    /// Due retries in sequence order, then held records of released keys.
    mutating func dispatch(now: Int64, limit: Int) -> [OutboxRecord] {
        var ready: [OutboxRecord] = []
        if !retrying.isEmpty {
            let due = retrying.filter { $0.value.dueAt <= now || $0.value.epoch < expedited }.sorted { $0.key < $1.key }
            for (sequence, waiting) in due {
                guard ready.count < limit else { break }
                retrying[sequence] = nil
                inFlight[sequence] = InFlight(record: waiting.record, attempts: waiting.attempts)
                ready.append(waiting.record)
            }
        }
        while ready.count < limit, releasableHead < releasable.count {
            let key = releasable[releasableHead]
            guard var queue = held[key], blockedKeys[key] == nil else {
                // Already released, or blocked again by a new retry: its unblock re-lists it.
                releasedWaiting = max(0, releasedWaiting - (held[key]?.count ?? 0))
                releasableHead += 1
                continue
            }
            let take = min(limit - ready.count, queue.count)
            for record in queue.prefix(take) {
                inFlight[record.sequence] = InFlight(record: record, attempts: 0)
                ready.append(record)
            }
            queue.removeFirst(take)
            heldCount -= take
            releasedWaiting = max(0, releasedWaiting - take)
            if queue.isEmpty {
                held[key] = nil
                releasableHead += 1
            } else {
                held[key] = queue
            }
        }
        if releasableHead > 1024 && releasableHead * 2 > releasable.count {
            releasable.removeFirst(releasableHead)
            releasableHead = 0
        }
        return ready
    }

    /// The sink delivered `sequence`. Returns whether a waiting sink should
    /// wake: a retry got through while others wait (they are all due now), or
    /// released records wait and either 256 have piled up or nothing is left in
    /// flight (so no later ack would wake it; appends wake it anyway).
    @discardableResult
    mutating func ack(_ sequence: UInt64) -> Bool {
        guard let flight = inFlight.removeValue(forKey: sequence) else { return false }
        resolve(sequence)
        var expedite = false
        if flight.attempts > 0 {
            expedite = !retrying.isEmpty
            if expedite { expedited += 1 }
            unblock(flight.record.key)
        }
        return expedite || (releasedWaiting > 0 && (releasedWaiting >= 256 || inFlight.isEmpty))
    }

    /// The sink's target is reachable again: every waiting retry is due now.
    /// Returns whether any was waiting.
    mutating func expediteRetries() -> Bool {
        guard !retrying.isEmpty else { return false }
        expedited += 1
        return true
    }

    /// The sink failed to deliver `sequence` for now; try again at `dueAt`.
    /// Returns the attempt number, or `nil` when the sequence is not in flight.
    @discardableResult
    mutating func retry(_ sequence: UInt64, dueAt: Int64) -> Int? {
        guard let flight = inFlight.removeValue(forKey: sequence) else { return nil }
        if flight.attempts == 0 { blockedKeys[flight.record.key, default: 0] += 1 }
        retrying[sequence] = Retrying(record: flight.record, attempts: flight.attempts + 1, dueAt: dueAt, epoch: expedited)
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
        held = [:]
        heldCount = 0
        releasable = []
        releasableHead = 0
        releasedWaiting = 0
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

    /// One retry of `key` is resolved; returns whether that released held records.
    @discardableResult
    private mutating func unblock(_ key: String) -> Bool {
        guard let count = blockedKeys[key] else { return false }
        guard count == 1 else {
            blockedKeys[key] = count - 1
            return false
        }
        blockedKeys[key] = nil
        guard let queue = held[key] else { return false }
        releasable.append(key)
        releasedWaiting += queue.count
        return true
    }
}
