extension Outbox {
    /// The next records for `sink`, waiting until there are some: due retries
    /// first, then records held back behind a retry whose key is free again,
    /// then new records in sequence order. Returns an empty array once the
    /// outbox is closed or the task is cancelled. One caller per sink at a time.
    public func nextBatch(for sink: String, limit: Int = 500) async throws -> [OutboxRecord] {
        guard state.withLock({ $0.sinks[sink] != nil }) else {
            throw OutboxError(.unknownSink, "no sink named '\(sink)' in this outbox")
        }
        while !Task.isCancelled {
            let now = Self.monotonicMilliseconds()
            // 1. What the sink's state machine has ready, and what to read next.
            let step = state.withLock { s -> (ready: [OutboxRecord], plan: ReadPlan?, closed: Bool, due: Int64?) in
                // A sink removed at run time (a finished replay) ends like a closed outbox.
                guard s.sinks[sink] != nil else { return ([], nil, true, nil) }
                s.signalled[sink] = false
                // Due retries and released records already count as outstanding:
                // only new reads from the log are bounded by the in-flight room.
                let ready = s.sinks[sink]!.dispatch(now: now, limit: limit)
                let room = min(limit - ready.count, max(0, configuration.maxInFlightPerSink - s.sinks[sink]!.outstanding))
                var plan: ReadPlan?
                if room > 0 {
                    plan = readPlan(sink: sink, state: s, limit: room)
                }
                return (ready, plan, s.closed, s.sinks[sink]!.nextRetryDue)
            }
            var ready = step.ready
            // 2. Read new records from the log, outside the lock.
            if let plan = step.plan {
                let read: (records: [OutboxRecord], through: UInt64) = (try? readRecords(plan)) ?? ([], plan.firstSequence - 1)
                let more = state.withLock { s -> [OutboxRecord] in
                    guard let current = s.sinks[sink], current.generation == plan.generation, current.nextToRead == plan.firstSequence else {
                        return []
                    }
                    return s.sinks[sink]!.receive(read.records, through: read.through)
                }
                ready += more
                // Read something, but all of it was skipped or held: read on.
                if ready.isEmpty && read.through >= plan.firstSequence { continue }
            }
            if !ready.isEmpty { return ready }
            if step.closed { return [] }
            // 3. Nothing: wait for an append, a resolution, or the next retry.
            await waitForSignal(sink: sink, until: step.due)
        }
        return []
    }

    /// `sink` delivered `sequence`.
    ///
    /// Wakes a waiting ``nextBatch(for:limit:)`` only when that can matter: the
    /// ack released held-back records, or it brought the sink back to half its
    /// in-flight limit. (Waking on every ack costs more than the ack.)
    public func ack(_ sink: String, _ sequence: UInt64) {
        let halfLimit = configuration.maxInFlightPerSink / 2
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let released = s.sinks[sink]?.ack(sequence) else { return nil }
            guard released || s.sinks[sink]!.outstanding == halfLimit else { return nil }
            s.signalled[sink] = true
            return s.sinkWaiters.removeValue(forKey: sink)
        }
        wake?.resume()
    }

    /// `sink` could not deliver `sequence` now: it comes back after `after`
    /// milliseconds, or after the configured backoff for its attempt number.
    /// Later records of the same key are held back until it is delivered.
    /// Returns the attempt number (1 for the first retry).
    @discardableResult
    public func retry(_ sink: String, _ sequence: UInt64, after: Int64? = nil) -> Int? {
        let now = Self.monotonicMilliseconds()
        let (attempt, wake) = state.withLock { s -> (Int?, CheckedContinuation<Void, Never>?) in
            guard let next = s.sinks[sink]?.nextAttempt(sequence) else { return (nil, nil) }
            let delay = after ?? configuration.retry.delay(attempt: next)
            let attempt = s.sinks[sink]?.retry(sequence, dueAt: now + delay)
            s.signalled[sink] = true
            return (attempt, s.sinkWaiters.removeValue(forKey: sink))
        }
        wake?.resume()
        return attempt
    }

    /// `sink`'s target is reachable again (a connection came back after failing):
    /// every record waiting for its retry time is due now, so a backlog starts
    /// draining at once instead of at the next retry, which after a long outage
    /// is up to ``RetryPolicy/maxMilliseconds`` away.
    public func expediteRetries(_ sink: String) {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.sinks[sink]?.expediteRetries() == true else { return nil }
            s.signalled[sink] = true
            return s.sinkWaiters.removeValue(forKey: sink)
        }
        wake?.resume()
    }

    /// `sink` gave up on `sequence` for good: the record is kept in the sink's
    /// dead-letter log with `reason` (durably, before this returns) and no longer
    /// holds back anything.
    public func deadLetter(_ sink: String, _ sequence: UInt64, reason: String) async throws {
        guard let record = state.withLock({ $0.sinks[sink]?.record(sequence) }) else { return }
        let frame = DeadLetterLog.encodeDead(record, reason: reason, time: Self.nowMilliseconds())
        try await onIOQueue { () throws(OutboxError) in try self.appendDeadLetterFrame(frame, sink: sink) }
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            _ = s.sinks[sink]?.deadLetter(sequence)
            s.signalled[sink] = true
            return s.sinkWaiters.removeValue(forKey: sink)
        }
        wake?.resume()
    }

    // MARK: - Reading the log

    struct ReadPlan {
        let generation: Int
        let firstSequence: UInt64
        /// Read no record past this (the last written one).
        let lastSequence: UInt64
        let limit: Int
        /// (file, start offset, end offset, last sequence) per segment, in order.
        let ranges: [(file: SystemFile, start: Int64, end: Int64, last: UInt64)]
    }

    func readPlan(sink: String, state s: borrowing State, limit: Int) -> ReadPlan? {
        let sinkState = s.sinks[sink]!
        var first = sinkState.nextToRead
        guard first <= s.readableSequence, limit > 0 else { return nil }
        // Records before the oldest segment are gone (retention): start at what exists.
        if let oldest = s.segments.first?.baseSequence, first < oldest { first = oldest }
        var ranges: [(file: SystemFile, start: Int64, end: Int64, last: UInt64)] = []
        var bytes: Int64 = 0
        for segment in s.segments where segment.recordCount > 0 && segment.lastSequence >= first {
            let start = segment.offset(of: max(first, segment.baseSequence)) ?? segment.endOffset
            let last = min(segment.lastSequence, s.readableSequence)
            let end = last == segment.lastSequence ? segment.endOffset : (segment.offset(of: last + 1) ?? segment.endOffset)
            ranges.append((segment.file, start, end, last))
            bytes += end - start
            if bytes >= 4 << 20 || ranges.count >= 4 { break }
        }
        return ReadPlan(
            generation: sinkState.generation, firstSequence: sinkState.nextToRead, lastSequence: s.readableSequence,
            limit: limit, ranges: ranges)
    }

    /// Reads up to `plan.limit` records; `through` is the last sequence covered
    /// (gaps up to it are quarantined records).
    func readRecords(_ plan: ReadPlan) throws(OutboxError) -> (records: [OutboxRecord], through: UInt64) {
        var records: [OutboxRecord] = []
        var through = plan.firstSequence - 1
        for range in plan.ranges {
            var offset = range.start
            while offset < range.end && records.count < plan.limit {
                let chunk = try range.file.read(count: Int(min(range.end - offset, 1 << 20)), at: offset)
                var consumed = 0
                chunk.withUnsafeBytes { buffer in
                    while consumed < buffer.count && records.count < plan.limit {
                        guard case .record(let record, let size) = RecordFrame.decode(buffer, at: consumed, maxBody: buffer.count)
                        else { break }
                        consumed += size
                        if record.sequence > plan.lastSequence { break }
                        if record.sequence >= plan.firstSequence { records.append(record) }
                        through = max(through, record.sequence)
                    }
                }
                if consumed == 0 {
                    // A frame larger than the chunk: read exactly it.
                    let header = try range.file.read(count: RecordFrame.headerSize, at: offset)
                    guard header.count == RecordFrame.headerSize else { break }
                    let length = header.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
                    let frame = try range.file.read(count: RecordFrame.headerSize + length, at: offset)
                    guard case .record(let record, let size) = frame.withUnsafeBytes({ RecordFrame.decode($0, at: 0, maxBody: length) })
                    else { throw OutboxError(.corrupt, "unreadable frame at \(range.file.path):\(offset)") }
                    if record.sequence >= plan.firstSequence && record.sequence <= plan.lastSequence { records.append(record) }
                    through = max(through, record.sequence)
                    consumed = size
                }
                offset += Int64(consumed)
            }
            if records.count >= plan.limit { break }
            through = max(through, range.last)
        }
        return (records, through)
    }

    // MARK: - Waiting

    func waitForSignal(sink: String, until due: Int64?) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { s -> Bool in
                            if s.signalled[sink] == true || s.closed { return true }
                            s.sinkWaiters[sink]?.resume()
                            s.sinkWaiters[sink] = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                }
                if let due {
                    let delay = max(0, due - Self.monotonicMilliseconds())
                    group.addTask { try? await Task.sleep(for: .milliseconds(delay)) }
                }
                await group.next()
                group.cancelAll()
                self.wake(sink: sink)
            }
        } onCancel: {
            self.wake(sink: sink)
        }
    }

    func wake(sink: String) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.signalled[sink] = true
            return s.sinkWaiters.removeValue(forKey: sink)
        }
        waiter?.resume()
    }

    /// Runs `body` on the I/O queue and returns its result.
    func onIOQueue<T: Sendable>(_ body: @escaping @Sendable () throws(OutboxError) -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            io.async {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    func appendDeadLetterFrame(_ frame: [UInt8], sink: String) throws(OutboxError) {
        let path = deadLettersDirectory + "/" + sink + DeadLetterLog.suffix
        let existed = SystemFile.exists(path)
        let file = try SystemFile.open(path, create: true)
        let size = try file.size()
        try file.write(frame, at: size)
        try file.syncData()
        if !existed { try SystemFile.syncDirectory(deadLettersDirectory) }
    }
}
