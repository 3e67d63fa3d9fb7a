extension Outbox {
    /// Delivers everything from `sequence` on to `sink` again (clamped to the
    /// oldest record still kept). Never skips ahead: a sequence past the sink's
    /// progress changes nothing. The cursor is persisted before this returns.
    public func rewind(_ sink: String, toSequence sequence: UInt64) async throws {
        let watermark = try state.withLock { s throws(OutboxError) -> UInt64 in
            guard s.sinks[sink] != nil else { throw OutboxError(.unknownSink, "no sink named '\(sink)'") }
            let oldest = s.segments.first?.baseSequence ?? 1
            guard sequence <= s.nextSequence else {
                throw OutboxError(.outOfRange, "sequence \(sequence) is past the end of the log (next is \(s.nextSequence))")
            }
            s.sinks[sink]!.rewind(to: max(sequence, oldest))
            return s.sinks[sink]!.watermark
        }
        try await onIOQueue { () throws(OutboxError) in try self.writeCursor(sink, watermark) }
        wake(sink: sink)
    }

    /// Delivers everything appended at or after `time` (milliseconds since the
    /// epoch) to `sink` again.
    public func rewind(_ sink: String, toTime time: Int64) async throws {
        let sequence = try await onIOQueue { () throws(OutboxError) in try self.firstSequence(appendedAtOrAfter: time) }
        try await rewind(sink, toSequence: sequence)
    }

    /// The first sequence appended at or after `time`, or the next sequence when none is.
    func firstSequence(appendedAtOrAfter time: Int64) throws(OutboxError) -> UInt64 {
        let (segments, next) = state.withLock { s in (s.segments, s.nextSequence) }
        for segment in segments where segment.recordCount > 0 && (segment.lastAppendTime ?? 0) >= time {
            let bytes = try segment.file.read(count: Int(segment.endOffset - Segment.headerSize), at: Segment.headerSize)
            var found: UInt64?
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while found == nil, case .record(let record, let size) = RecordFrame.decode(buffer, at: offset, maxBody: buffer.count) {
                    if record.appendTime >= time { found = record.sequence }
                    offset += size
                }
            }
            if let found { return found }
        }
        return next
    }

    /// Appends the dead letters of `sink` (all, or those in `sequences`) to the log
    /// again, for `sink` only, and marks them requeued. Returns the new sequences.
    public func requeue(_ sink: String, sequences: [UInt64]? = nil) async throws -> [UInt64] {
        guard state.withLock({ $0.sinks[sink] != nil }) else { throw OutboxError(.unknownSink, "no sink named '\(sink)'") }
        let entries = try await onIOQueue { () throws(OutboxError) in try self.deadLetters(for: sink) }.filter { entry in
            !entry.requeued && (sequences?.contains(entry.record.sequence) ?? true)
        }
        if entries.isEmpty { return [] }
        let appended = try await append(entries.map { OutboxEntry(key: $0.record.key, payload: $0.record.payload, routing: [sink], attributes: $0.record.attributes) })
        let now = Self.nowMilliseconds()
        var markers: [UInt8] = []
        for entry in entries { markers += DeadLetterLog.encodeRequeued(sequence: entry.record.sequence, time: now) }
        let frames = markers
        try await onIOQueue { () throws(OutboxError) in try self.appendDeadLetterFrame(frames, sink: sink) }
        state.withLock { $0.deadLetters[sink, default: 0] -= entries.count }
        return appended
    }

    /// The dead letters of `sink`, oldest first (requeued ones marked).
    public func deadLetters(for sink: String) throws(OutboxError) -> [DeadLetter] {
        try Self.readDeadLetters(directory: directory, sink: sink, fileSystem: fileSystem)
    }

    static func readDeadLetters(
        directory: String, sink: String, fileSystem: any OutboxFileSystem
    ) throws(OutboxError) -> [DeadLetter] {
        let path = OutboxPaths(directory: directory).deadLetterLog(sink)
        guard fileSystem.exists(path) else { return [] }
        let bytes = try fileSystem.open(path, readOnly: true).readAll()
        return DeadLetterLog.decode(bytes).entries.map {
            DeadLetter(sink: sink, record: $0.record, reason: $0.reason, time: $0.time, requeued: $0.requeued)
        }
    }

    /// Adds a sink at run time, e.g. a replay: it receives every record from
    /// `sequence` on that is routed to `routingAs`, with a cursor of its own
    /// (which also keeps those segments from being deleted until it is removed).
    /// With `through`, records after that sequence are not for it.
    public func addSink(_ name: String, routingAs: String, from sequence: UInt64, through last: UInt64? = nil) async throws {
        guard Self.isValidSinkName(name) else { throw OutboxError(.invalidSinkName, "invalid sink name '\(name)'") }
        let watermark = try state.withLock { s throws(OutboxError) -> UInt64 in
            guard s.sinks[name] == nil else { throw OutboxError(.sinkExists, "sink '\(name)' exists already") }
            let oldest = s.segments.first?.baseSequence ?? 1
            let watermark = max(sequence, oldest) - 1
            s.sinks[name] = SinkState(name: name, watermark: watermark, routingName: routingAs, stopAfter: last)
            s.statistics[name] = s.statistics[name] ?? SinkStatistics()
            s.signalled[name] = true
            return watermark
        }
        try await onIOQueue { () throws(OutboxError) in try self.writeCursor(name, watermark) }
    }

    /// Removes a sink added with ``addSink(_:routingAs:from:)`` and its cursor file.
    public func removeSink(_ name: String) async throws {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.sinks[name] = nil
            s.persistedWatermarks[name] = nil
            s.signalled[name] = nil
            return s.sinkWaiters.removeValue(forKey: name)
        }
        waiter?.resume()
        try await onIOQueue { () throws(OutboxError) in
            try self.fileSystem.remove(self.paths.cursor(name))
            try self.fileSystem.syncDirectory(self.paths.cursors)
        }
    }

    /// The first sequence appended at or after `time` (ms since the epoch), or the next one when none is.
    public func sequence(appendedAtOrAfter time: Int64) async throws -> UInt64 {
        try await onIOQueue { () throws(OutboxError) in try self.firstSequence(appendedAtOrAfter: time) }
    }

    /// The last sequence written so far (0 when none).
    public var lastSequence: UInt64 { state.withLock { $0.readableSequence } }

    /// Why an append of `bytes` would be refused right now, or `nil` when it
    /// would be accepted (readiness checks).
    public func refusal(forAppendOf bytes: Int) -> OutboxError? {
        state.withLock { s in refusal(s, appending: bytes) }
    }

    /// Current figures, from memory only (no file is read): what `/readyz`
    /// and `/metrics` show. Built like ``OutboxInspector/status(now:)``.
    public func status() -> OutboxStatus {
        let now = Self.nowMilliseconds()
        return state.withLock { s in
            OutboxStatus(
                directory: directory, segments: s.segments, lastWritten: s.readableSequence,
                sinks: s.sinks.values.map {
                    OutboxStatus.SinkInput(name: $0.name, watermark: $0.watermark, routingName: $0.routingName, stopAfter: $0.stopAfter)
                },
                routed: s.routed, deadLetters: s.deadLetters, quarantined: s.quarantined, now: now)
        }
    }
}

/// A record a sink gave up on.
public struct DeadLetter: Sendable, Hashable {
    public let sink: String
    public let record: OutboxRecord
    public let reason: String
    /// When the sink gave up, milliseconds since the epoch.
    public let time: Int64
    /// Whether it was appended to the log again.
    public let requeued: Bool
}

extension Outbox {
    /// Group commits since opening, and the appends they served: their ratio
    /// is how well the group commit gathers (``OutboxConfiguration/commitWindow``).
    public var commitCounts: CommitCounts {
        state.withLock { $0.commits }
    }
}
