import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The disk-backed outbox: every record is durable before ``append(_:)`` returns,
/// and stays until every sink has it (and its retention has passed).
///
/// Appends from many tasks are group-committed: one `write` and one `fdatasync`
/// on the outbox's own I/O queue cover everyone waiting. Sinks pull records with
/// ``nextBatch(for:limit:)`` and resolve each with ``ack(_:_:)``,
/// ``retry(_:_:after:)`` or ``deadLetter(_:_:reason:)``. docs/outbox.md has the file
/// format and the guarantees.
public final class Outbox: Sendable {
    public let directory: String
    public let configuration: OutboxConfiguration
    /// What recovery found and repaired when the outbox was opened.
    public let recovery: RecoveryReport
    /// Every file call goes through here (``PosixFileSystem`` unless a test injects faults).
    public let fileSystem: any OutboxFileSystem

    /// Everything that changes after opening. Held only for short, non-blocking
    /// steps (no system call, no await inside): appenders, sinks, maintenance
    /// and status readers take it from any thread.
    let state: Mutex<State>
    /// All disk writes happen here: never on the cooperative thread pool.
    let io = DispatchQueue(label: "cibridge.outbox.io")
    /// Ends a group commit's hold early (``CommitWindow``): signalled by the
    /// append that completes the crowd, waited on by the I/O queue.
    let holdRelease = DispatchSemaphore(value: 0)
    /// Sinks' reads of the log happen here: a `pread` blocks like any file I/O,
    /// and on the write queue it would wait behind group commits.
    let reads = DispatchQueue(label: "cibridge.outbox.read")
    private let lockFile: any OutboxFile
    /// Outcomes, dead letters and errors of background work are logged here.
    let logger: Logger
    /// Failures of work nobody awaits (maintenance, dead-letter writes, reads
    /// for sinks): logged once per change and counted.
    let errors: ErrorReporter
    /// Told of every hand-out and outcome (publish spans); nil costs nothing.
    let deliveryObserver: (any DeliveryObserver)?

    /// Where its files are.
    var paths: OutboxPaths { OutboxPaths(directory: directory) }

    struct State: ~Copyable {
        var segments: [Segment]
        var nextSequence: UInt64
        /// Records up to here are written (and, with `fsync: always`, synced): sinks may read them.
        var readableSequence: UInt64
        var totalBytes: Int64
        var pending = PendingBatch()
        var flushScheduled = false
        var sinks: [String: SinkState]
        var persistedWatermarks: [String: UInt64]
        /// Per sink: something happened since it last looked (new records, a retry, a rewind).
        var signalled: [String: Bool]
        var sinkWaiters: [String: CheckedContinuation<Void, Never>] = [:]
        var freeBytes: Int64 = .max
        /// After a failed `fdatasync` the page cache can no longer be trusted: no more appends.
        var failure: OutboxError?
        var closed = false
        var lastSync: Int64 = 0
        var syncScheduled = false
        var quarantined: Int
        /// The recent crowd of appenders (``CommitWindow/peak(after:batch:)``).
        var batchPeak = 0
        /// The I/O queue holds the pending batch (``CommitWindow``) until
        /// `releaseCount` appends wait, or the window ends.
        var holding = false
        /// Group commits and the appends they served, since opening.
        var commits = CommitCounts()
        /// When the last group commit ended (``monotonicMicroseconds()``).
        var lastCommitEnd: Int64?
        /// The newest records written, for sinks that keep up.
        var recent = RecentRecords()
        /// Per sink, what ``resolve(_:_:_:)`` counted (made with the sink, so
        /// counting needs no lock of its own: it happens under this one).
        var statistics: [String: SinkStatistics]
        /// Per sink, dead letters not requeued (kept here so status reads no file).
        var deadLetters: [String: Int]
        /// Records appended for some sinks only (requeued dead letters), oldest first:
        /// the exceptions status needs to count each sink's pending records exactly.
        var routed: [RoutedRecord]
    }

    struct PendingBatch {
        var bytes: [UInt8] = []
        var frames: [(sequence: UInt64, offset: Int, size: Int, appendTime: Int64)] = []
        /// The same records, for ``RecentRecords`` once they are written.
        var records: [OutboxRecord] = []
        /// Who is told when the batch is durable (or failed), with their sequence numbers.
        var waiters: [(@Sendable (Result<[UInt64], OutboxError>) -> Void, [UInt64])] = []
        var isEmpty: Bool { frames.isEmpty }
    }

    /// Opens (creating if needed) the outbox in `directory`, recovering from any
    /// crash: torn tails are cut off and kept in `quarantine/`, damaged records in
    /// the middle of a segment are moved there, and every sink resumes from its
    /// persisted cursor. Throws `locked` when another process has it open.
    ///
    /// This does blocking file I/O: from async code, use ``open(directory:configuration:logger:)``.
    public init(
        directory: String, configuration: OutboxConfiguration, logger: Logger = Logger(label: "cibridge.outbox"),
        fileSystem: any OutboxFileSystem = PosixFileSystem(), deliveryObserver: (any DeliveryObserver)? = nil
    ) throws(OutboxError) {
        self.deliveryObserver = deliveryObserver
        self.directory = directory
        self.fileSystem = fileSystem
        self.configuration = configuration
        self.logger = logger
        self.errors = ErrorReporter(logger: logger)
        for sink in configuration.sinks where !Self.isValidSinkName(sink) {
            throw OutboxError(.invalidSinkName, "invalid sink name '\(sink)': use 1-64 of A-Z a-z 0-9 . _ -")
        }
        let paths = OutboxPaths(directory: directory)
        // Each directory's entry is made durable in its parent, every time: a
        // `mkdir` whose parent was never synced is undone by a power cut, with
        // everything under it (an earlier run may have died before the sync).
        let created = try fileSystem.makeDurableDirectory(directory)
        for subdirectory in paths.subdirectories {
            try fileSystem.makeDirectory(subdirectory)
        }
        try fileSystem.syncDirectory(directory)
        let lockFile = try fileSystem.open(paths.lock, create: true)
        guard try lockFile.tryLockExclusive() else {
            throw OutboxError(.locked, "outbox \(directory) is in use by another process (cibridge serve?)")
        }
        self.lockFile = lockFile
        var recovered = try Self.recover(directory: directory, configuration: configuration, repair: true, fileSystem: fileSystem)
        recovered.report.created = created
        self.recovery = recovered.report
        var sinks: [String: SinkState] = [:]
        var signalled: [String: Bool] = [:]
        var statistics: [String: SinkStatistics] = [:]
        for (name, watermark) in recovered.watermarks {
            sinks[name] = SinkState(name: name, watermark: watermark)
            signalled[name] = true
            statistics[name] = SinkStatistics()
        }
        self.state = Mutex(
            State(
                segments: recovered.segments, nextSequence: recovered.nextSequence,
                readableSequence: recovered.nextSequence - 1, totalBytes: recovered.segments.reduce(0) { $0 + $1.bytes },
                sinks: sinks, persistedWatermarks: recovered.watermarks, signalled: signalled,
                quarantined: recovered.report.quarantinedTotal, statistics: statistics, deadLetters: recovered.deadLetters,
                routed: recovered.routed))
        let free = refreshFreeBytes()
        // Give every sink a cursor file at once, so its starting point is on disk
        // and read-only tools (`cibridge outbox status`) see it.
        for (name, watermark) in recovered.watermarks.sorted(by: { $0.key < $1.key }) {
            if !fileSystem.exists(paths.cursor(name)) { try writeCursor(name, watermark) }
        }
        ensureReserve(free: free ?? 0)
        scheduleMaintenance()
    }

    /// Opens the outbox on a thread of its own: recovery reads every segment,
    /// which must not block Swift's cooperative pool.
    public static func open(
        directory: String, configuration: OutboxConfiguration, logger: Logger = Logger(label: "cibridge.outbox"),
        fileSystem: any OutboxFileSystem = PosixFileSystem(), deliveryObserver: (any DeliveryObserver)? = nil
    ) async throws(OutboxError) -> Outbox {
        let result: Result<Outbox, OutboxError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(OutboxError) {
                    continuation.resume(
                        returning: .success(
                            try Outbox(
                                directory: directory, configuration: configuration, logger: logger, fileSystem: fileSystem,
                                deliveryObserver: deliveryObserver)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    static func isValidSinkName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F
                    || b == 0x2D
            }
    }

    // MARK: - Append

    /// Appends `entries` and returns their sequence numbers once they are durable
    /// (per ``OutboxConfiguration/fsync``). Fails fast with `outbox_full` or
    /// `disk_low` when a limit is reached; nothing of the call is appended then.
    public func append(_ entries: [OutboxEntry]) async throws -> [UInt64] {
        let result: Result<[UInt64], OutboxError> = await withCheckedContinuation { continuation in
            append(entries) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// The same, for a caller that is not a Swift task: `completion` is called
    /// once, with the sequence numbers when the entries are durable or with the
    /// refusal or failure. It runs on the outbox's I/O thread (or on the
    /// caller's, for a refusal), so it must only hand the result on, never
    /// block. The HTTP edge's channel handler uses this to answer a callback
    /// from its event loop without a task and a continuation per request.
    public func append(_ entries: [OutboxEntry], completion: @escaping @Sendable (Result<[UInt64], OutboxError>) -> Void) {
        if entries.isEmpty { return completion(.success([])) }
        let now = Self.nowMilliseconds()
        let outcome: Result<Bool, OutboxError> = state.withLock { s in
            var size = 0
            for entry in entries {
                let frameSize = RecordFrame.size(
                    key: entry.key, routing: entry.routing, payload: entry.payload.count, attributes: entry.attributes)
                if Int64(frameSize) > configuration.segmentBytes - Segment.headerSize {
                    return .failure(OutboxError(.recordTooLarge, "a \(frameSize)-byte record does not fit a \(configuration.segmentBytes)-byte segment"))
                }
                size += frameSize
            }
            if let refusal = refusal(s, appending: size) { return .failure(refusal) }
            var sequences: [UInt64] = []
            sequences.reserveCapacity(entries.count)
            for entry in entries {
                let sequence = s.nextSequence
                s.nextSequence += 1
                let offset = s.pending.bytes.count
                RecordFrame.encode(
                    sequence: sequence, appendTime: now, key: entry.key, routing: entry.routing, payload: entry.payload,
                    attributes: entry.attributes, into: &s.pending.bytes)
                s.pending.frames.append((sequence, offset, s.pending.bytes.count - offset, now))
                s.pending.records.append(
                    OutboxRecord(
                        sequence: sequence, appendTime: now, key: entry.key, routing: entry.routing, payload: entry.payload,
                        attributes: entry.attributes))
                sequences.append(sequence)
                if !entry.routing.isEmpty { s.routed.append(RoutedRecord(sequence: sequence, sinks: entry.routing)) }
            }
            s.pending.waiters.append((completion, sequences))
            if s.holding && s.pending.waiters.count >= configuration.commitWindow.releaseCount(peak: s.batchPeak) {
                s.holding = false
                holdRelease.signal()
            }
            if s.flushScheduled { return .success(false) }
            s.flushScheduled = true
            return .success(true)
        }
        switch outcome {
        case .failure(let error): completion(.failure(error))
        case .success(true): io.async { self.flush() }
        case .success(false): break
        }
    }

    /// Why appending `bytes` more would be refused now, or `nil`: the one
    /// admission check, for appends and for readiness (``refusal(forAppendOf:)``).
    func refusal(_ s: borrowing State, appending bytes: Int) -> OutboxError? {
        if let failure = s.failure { return failure }
        if s.closed { return OutboxError(.closed, "the outbox is closed") }
        if s.totalBytes + Int64(s.pending.bytes.count + bytes) > configuration.maxBytes {
            return OutboxError(.full, "outbox is full: \(s.totalBytes) bytes stored, limit \(configuration.maxBytes)")
        }
        if s.freeBytes - Int64(s.pending.bytes.count + bytes) < configuration.minFreeBytes {
            return OutboxError(.diskLow, "disk space low: \(s.freeBytes) bytes free, margin \(configuration.minFreeBytes)")
        }
        return nil
    }

    /// Writes the pending batch (on the I/O queue), then comes back for the next.
    ///
    /// Group commit: each batch is one `write` and one `fdatasync` for everyone
    /// waiting. While appends arrive together, the next batch is taken no sooner
    /// than ``OutboxConfiguration/commitWindow`` after the last commit ended
    /// (``CommitWindow``), so that what arrives meanwhile shares it.
    private func flush() {
        let hold = state.withLock { s in
            let hold = configuration.commitWindow.delay(
                now: Self.monotonicMicroseconds(), lastCommitEnd: s.lastCommitEnd, peak: s.batchPeak,
                waiting: s.pending.waiters.count)
            s.holding = hold > 0
            return hold
        }
        if hold > 0 {
            // On the I/O queue's own thread: only maintenance could run here
            // meanwhile, and it can wait a millisecond. `append` signals once
            // the release count waits (``CommitWindow/releaseCount(peak:)``).
            let released = holdRelease.wait(timeout: .now() + .microseconds(Int(hold))) == .success
            state.withLock { s in
                s.holding = false
                s.commits.holds += 1
                if released { s.commits.releases += 1 }
            }
            // A release signalled as the wait timed out would cut the next hold short.
            while holdRelease.wait(timeout: .now()) == .success {}
        }
        let taken: (PendingBatch, Segment)? = state.withLock { s in
            if s.pending.isEmpty {
                s.flushScheduled = false
                return nil
            }
            let batch = s.pending
            s.pending = PendingBatch()
            s.batchPeak = CommitWindow.peak(after: s.batchPeak, batch: batch.waiters.count)
            s.commits.commits += 1
            s.commits.appends += batch.waiters.count
            return (batch, s.segments[s.segments.count - 1])
        }
        guard let (batch, active) = taken else { return }
        do {
            try write(batch, after: active)
        } catch {
            for (waiter, _) in batch.waiters { waiter(.failure(error)) }
        }
        let end = Self.monotonicMicroseconds()
        state.withLock { $0.lastCommitEnd = end }
        // One batch per turn of the queue, so maintenance, dead letters and rewinds
        // are not starved under continuous load.
        io.async { self.flush() }
    }

    private func write(_ batch: PendingBatch, after active: Segment) throws(OutboxError) {
        var segment = active
        if segment.recordCount > 0 && segment.endOffset + Int64(batch.bytes.count) > configuration.segmentBytes {
            segment = try rotate(after: segment, base: batch.frames[0].sequence)
        }
        let start = segment.endOffset
        do {
            try segment.file.write(batch.bytes, at: start)
        } catch {
            // Nothing of the batch counts: cut back whatever part reached the file.
            do throws(OutboxError) {
                try segment.file.truncate(to: start)
            } catch {
                // The next batch would follow the partial one: refuse appends instead.
                errors.report(error, during: "truncate after a failed write")
                state.withLock { $0.failure = error }
            }
            refreshFreeBytes()
            throw error
        }
        let now = Self.nowMilliseconds()
        var synced = false
        switch configuration.fsync {
        case .always:
            try syncOrFail(segment.file)
            synced = true
        case .interval(let milliseconds):
            let due = state.withLock { s in now - s.lastSync >= Int64(milliseconds) }
            if due {
                try syncOrFail(segment.file)
                synced = true
            } else {
                scheduleSync(after: milliseconds)
            }
        }
        state.withLock { s in
            if synced { s.lastSync = now }
            let index = s.segments.count - 1
            for frame in batch.frames {
                s.segments[index].index(
                    sequence: frame.sequence, offset: start + Int64(frame.offset), appendTime: frame.appendTime, size: frame.size)
            }
            s.totalBytes += Int64(batch.bytes.count)
            s.freeBytes -= Int64(batch.bytes.count)
            s.readableSequence = batch.frames[batch.frames.count - 1].sequence
            s.recent.append(batch.records)
        }
        for (waiter, sequences) in batch.waiters { waiter(.success(sequences)) }
        signalAllSinks()
    }

    /// `fdatasync`, and on failure refuse every later append: after a failed sync
    /// the kernel may have dropped the dirty pages, so "written" no longer means anything.
    private func syncOrFail(_ file: any OutboxFile) throws(OutboxError) {
        do {
            try file.syncData()
        } catch {
            state.withLock { $0.failure = error }
            throw error
        }
    }

    private func scheduleSync(after milliseconds: Int) {
        let schedule = state.withLock { s -> Bool in
            if s.syncScheduled { return false }
            s.syncScheduled = true
            return true
        }
        guard schedule else { return }
        io.asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
            let file = self.state.withLock { s -> any OutboxFile in
                s.syncScheduled = false
                return s.segments[s.segments.count - 1].file
            }
            do throws(OutboxError) {
                try self.syncOrFail(file)
                self.state.withLock { $0.lastSync = Self.nowMilliseconds() }
            } catch {
                self.errors.report(error, during: "interval fsync")
            }
        }
    }

    /// Closes `segment` and starts a new one whose first record will be `base`.
    /// Both syncs are fatal when they fail, like the group commit's: records
    /// written before may be gone from the page cache.
    private func rotate(after segment: Segment, base: UInt64) throws(OutboxError) -> Segment {
        try syncOrFail(segment.file)
        let next: Segment
        do {
            next = try Segment.create(directory: paths.segments, base: base, fileSystem: fileSystem)
        } catch {
            // A file with half a header (a full disk) would otherwise stay behind,
            // outside the log, until the next start.
            try? fileSystem.remove(paths.segment(base: base))
            throw error
        }
        try syncOrFail(next.file)
        try fileSystem.syncDirectory(paths.segments)
        state.withLock { s in
            s.segments.append(next)
            s.totalBytes += Segment.headerSize
        }
        refreshFreeBytes()
        return next
    }

    // MARK: - Closing

    /// Finishes pending appends, persists every cursor, refuses further appends and
    /// releases the directory for another process.
    public func close() async {
        state.withLock { $0.closed = true }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            io.async {
                self.flush()
                if let file = self.state.withLock({ $0.segments.last?.file }) {
                    do throws(OutboxError) { try file.syncData() } catch { self.errors.report(error, during: "fsync at close") }
                }
                self.persistCursors()
                self.lockFile.unlock()
                continuation.resume()
            }
        }
        signalAllSinks()
    }

    // MARK: - Helpers

    /// Milliseconds since the Unix epoch (wall clock).
    public static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Milliseconds on the monotonic clock: what retry delays are timed with,
    /// so a wall-clock jump (NTP step, operator) neither stalls nor rushes them.
    static func monotonicMilliseconds() -> Int64 {
        monotonicMicroseconds() / 1000
    }

    /// Microseconds on the monotonic clock: what the commit window is timed with.
    static func monotonicMicroseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }

    func signalAllSinks() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            for name in s.sinks.keys { s.signalled[name] = true }
            let waiters = Array(s.sinkWaiters.values)
            s.sinkWaiters = [:]
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
