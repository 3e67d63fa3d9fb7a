extension Outbox {
    /// The next records for `sink`, waiting until there are some: due retries
    /// first, then records held back behind a retry whose key is free again,
    /// then new records in sequence order: from memory while the sink keeps up
    /// (``RecentRecords``), read from the segments on the read queue when it has
    /// fallen behind. Returns an empty array once the outbox is closed or the
    /// task is cancelled (a cancelled call hands out nothing). One caller per
    /// sink at a time.
    public func nextBatch(for sink: String, limit: Int = 500) async throws -> [OutboxRecord] {
        guard state.withLock({ $0.sinks[sink] != nil }) else {
            throw OutboxError(.unknownSink, "no sink named '\(sink)' in this outbox")
        }
        while !Task.isCancelled {
            // 1. What to read next from the log, within the sink's in-flight room:
            // from the recent records in memory when the sink keeps up, else a plan
            // to read the files.
            let step = state.withLock { s -> (plan: ReadPlan?, gone: Bool, recent: (ready: [OutboxRecord], took: Bool)?) in
                // A sink removed at run time (a finished replay) ends like a closed outbox.
                guard let sinkState = s.sinks[sink] else { return (nil, true, nil) }
                s.signalled[sink] = false
                let room = min(limit, max(0, configuration.maxInFlightPerSink - sinkState.outstanding))
                // A closed outbox hands out what is already in memory, and reads nothing more.
                guard room > 0, !s.closed, sinkState.nextToRead <= s.readableSequence else { return (nil, false, nil) }
                if let recent = s.recent.records(from: sinkState.nextToRead, limit: room) {
                    let ready = s.sinks[sink]!.handOut(
                        now: Self.monotonicMilliseconds(), limit: limit, records: recent,
                        through: recent.last?.sequence ?? sinkState.nextToRead - 1)
                    return (nil, false, (ready, s.sinks[sink]!.nextToRead != sinkState.nextToRead))
                }
                return (readPlan(sink: sink, state: s, limit: room), false, nil)
            }
            if step.gone { return [] }
            if let recent = step.recent {
                if !recent.ready.isEmpty { return recent.ready }
                // Took records that were all held back or not for this sink: take on.
                if recent.took { continue }
            }
            // 2. Read it outside the lock, on the read queue (never on the cooperative pool).
            var read: (records: [OutboxRecord], through: UInt64)?
            var readFailed = false
            if let plan = step.plan {
                do {
                    read = try await onReadQueue { () throws(OutboxError) in try self.readRecords(plan) }
                    errors.cleared("read for sink \(sink)")
                } catch {
                    // Not "nothing to read": say so once, and try again in a second
                    // (or sooner, when something else happens for this sink).
                    errors.report(error, during: "read for sink \(sink)")
                    readFailed = true
                }
            }
            // Cancelled meanwhile: hand out nothing, so nothing is handed to a caller that
            // is gone. What was read is read again by the next call.
            if Task.isCancelled { break }
            // 3. Under one lock: due retries and released records first, then what was read.
            let now = Self.monotonicMilliseconds()
            let outcome = state.withLock { s -> (ready: [OutboxRecord], closed: Bool, due: Int64?) in
                guard s.sinks[sink] != nil else { return ([], true, nil) }
                // What was read counts only if nothing moved the sink meanwhile (a rewind).
                let current = s.sinks[sink]!
                var records: ArraySlice<OutboxRecord> = []
                var through = current.nextToRead - 1
                if let plan = step.plan, let read, current.generation == plan.generation, current.nextToRead == plan.firstSequence {
                    records = read.records[...]
                    through = read.through
                }
                let ready = s.sinks[sink]!.handOut(now: now, limit: limit, records: records, through: through)
                return (ready, s.closed, s.sinks[sink]!.nextRetryDue)
            }
            if !outcome.ready.isEmpty { return outcome.ready }
            // Read something, but all of it was skipped or held: read on.
            if let plan = step.plan, let read, read.through >= plan.firstSequence { continue }
            if outcome.closed { return [] }
            // 4. Nothing: wait for an append, a resolution, or the next retry.
            await waitForSignal(sink: sink, until: readFailed ? min(outcome.due ?? .max, now + 1000) : outcome.due)
        }
        return []
    }

    /// Resolves one delivery attempt of `sink`: the only way sinks report
    /// outcomes, so that every sink's are counted (``statistics(_:)``) and
    /// logged the same way. Callable from any thread; never blocks (a dead
    /// letter is written on the outbox's I/O queue, and if that fails the
    /// record is retried instead, never dropped).
    public func resolve(_ sink: String, _ sequence: UInt64, _ outcome: DeliveryOutcome) {
        deliveryObserver?.resolved(sink: sink, sequence: sequence, outcome: outcome)
        switch outcome {
        case .delivered, .duplicate:
            ack(sink, sequence, counting: outcome)
        case .retry(let failure):
            let attempt = retry(sink, sequence, after: failure.retryAfterMilliseconds, counting: outcome)
            // One line per record only at debug: an outage fails every record, and
            // the sinks log the outage itself once.
            logger.debug("delivery failed; will retry", metadata: [
                "sink": "\(sink)", "sequence": "\(sequence)", "attempt": "\(attempt ?? 0)", "code": "\(failure.code)",
                "reason": "\(failure.message)",
            ])
        case .deadLetter(let failure):
            let record = state.withLock { s -> OutboxRecord? in
                s.statistics[sink]?.count(outcome)
                return s.sinks[sink]?.record(sequence)
            }
            guard let record else { return }
            logger.error("delivery failed for good; record moved to the dead-letter log", metadata: [
                "sink": "\(sink)", "sequence": "\(sequence)", "key": "\(record.key)", "code": "\(failure.code)",
                "reason": "\(failure.message)",
            ])
            let frame = DeadLetterLog.encodeDead(record, reason: failure.description, time: Self.nowMilliseconds())
            io.async {
                do throws(OutboxError) {
                    try self.appendDeadLetterFrame(frame, sink: sink)
                    self.errors.cleared("dead-letter write")
                    self.markDeadLettered(sink, sequence)
                } catch {
                    self.errors.report(error, during: "dead-letter write")
                    self.retry(sink, sequence)
                }
            }
        }
    }

    /// Resolves several attempts of `sink` (a pipeline's replies).
    public func resolve(_ sink: String, _ outcomes: some Sequence<(sequence: UInt64, outcome: DeliveryOutcome)>) {
        for (sequence, outcome) in outcomes { resolve(sink, sequence, outcome) }
    }

    /// What ``resolve(_:_:_:)`` counted for `sink` since the outbox was opened.
    public func statistics(_ sink: String) -> SinkStatistics {
        state.withLock { s in
            if let statistics = s.statistics[sink] { return statistics }
            let statistics = SinkStatistics()
            s.statistics[sink] = statistics
            return statistics
        }
    }

    /// `sink` delivered `sequence`.
    ///
    /// Wakes a waiting ``nextBatch(for:limit:)`` only when that can matter: the
    /// ack released held-back records, or it brought the sink back to half its
    /// in-flight limit. (Waking on every ack costs more than the ack.)
    public func ack(_ sink: String, _ sequence: UInt64) {
        ack(sink, sequence, counting: nil)
    }

    /// ``ack(_:_:)``, counting `outcome` in the sink's statistics under the same lock.
    private func ack(_ sink: String, _ sequence: UInt64, counting outcome: DeliveryOutcome?) {
        let halfLimit = configuration.maxInFlightPerSink / 2
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let outcome { s.statistics[sink]?.count(outcome) }
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
        retry(sink, sequence, after: after, counting: nil)
    }

    /// ``retry(_:_:after:)``, counting `outcome` in the sink's statistics under the same lock.
    private func retry(_ sink: String, _ sequence: UInt64, after: Int64?, counting outcome: DeliveryOutcome?) -> Int? {
        let now = Self.monotonicMilliseconds()
        let (attempt, wake) = state.withLock { s -> (Int?, CheckedContinuation<Void, Never>?) in
            if let outcome { s.statistics[sink]?.count(outcome) }
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
    /// holds back anything. Sinks use ``resolve(_:_:_:)``; this is for tools and tests.
    /// Returns `false`, writing nothing, when the sink does not hold the record
    /// (not handed out, already resolved, or taken back by a rewind).
    @discardableResult
    public func deadLetter(_ sink: String, _ sequence: UInt64, reason: String) async throws -> Bool {
        guard let record = state.withLock({ $0.sinks[sink]?.record(sequence) }) else { return false }
        let frame = DeadLetterLog.encodeDead(record, reason: reason, time: Self.nowMilliseconds())
        try await onIOQueue { () throws(OutboxError) in try self.appendDeadLetterFrame(frame, sink: sink) }
        markDeadLettered(sink, sequence)
        return true
    }

    /// The dead letter of `sequence` is on disk: the record no longer holds anything back.
    private func markDeadLettered(_ sink: String, _ sequence: UInt64) {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.sinks[sink]?.deadLetter(sequence) != nil { s.deadLetters[sink, default: 0] += 1 }
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
        let ranges: [(file: any OutboxFile, start: Int64, end: Int64, last: UInt64)]
    }

    func readPlan(sink: String, state s: borrowing State, limit: Int) -> ReadPlan? {
        let sinkState = s.sinks[sink]!
        var first = sinkState.nextToRead
        guard first <= s.readableSequence, limit > 0 else { return nil }
        // Records before the oldest segment are gone (retention): start at what exists.
        if let oldest = s.segments.first?.baseSequence, first < oldest { first = oldest }
        var ranges: [(file: any OutboxFile, start: Int64, end: Int64, last: UInt64)] = []
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

    /// Runs `body` on the read queue and returns its result.
    func onReadQueue<T: Sendable>(_ body: @escaping @Sendable () throws(OutboxError) -> T) async throws(OutboxError) -> T {
        let result: Result<T, OutboxError> = await withCheckedContinuation { continuation in
            reads.async {
                do throws(OutboxError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    func appendDeadLetterFrame(_ frame: [UInt8], sink: String) throws(OutboxError) {
        let path = paths.deadLetterLog(sink)
        let file = try fileSystem.open(path, create: true)
        let size = try file.size()
        do {
            try file.write(frame, at: size)
        } catch {
            // A partial frame would hide every dead letter written after it:
            // cut it off (recovery does the same for one a crash left).
            do throws(OutboxError) { try file.truncate(to: size) } catch { errors.report(error, during: "truncate after a failed dead-letter write") }
            throw error
        }
        try file.syncData()
        // Every time, not only when this call created the log: a call that created
        // it and then failed (a full disk) left an entry no sync has covered, and a
        // power cut would take the log with every dead letter written to it since.
        // Dead letters are rare; one more fsync each is cheap.
        try fileSystem.syncDirectory(paths.deadLetters)
    }
}
