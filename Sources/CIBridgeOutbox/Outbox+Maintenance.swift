import Dispatch

extension Outbox {
    /// Every 200 ms (``OutboxConfiguration/maintenanceMilliseconds``) on the I/O queue: persist changed cursors, delete segments
    /// every sink is done with once retention allows, refresh the free-space figure.
    func scheduleMaintenance() {
        io.asyncAfter(deadline: .now() + .milliseconds(configuration.maintenanceMilliseconds)) { [weak self] in
            guard let self, !self.state.withLock({ $0.closed }) else { return }
            self.persistCursors()
            do throws(OutboxError) {
                try self.collectGarbage(now: Self.nowMilliseconds())
                self.errors.cleared("segment deletion")
            } catch {
                self.errors.report(error, during: "segment deletion")
            }
            if let free = self.refreshFreeBytes() { self.ensureReserve(free: free) }
            self.scheduleMaintenance()
        }
    }

    /// Writes the cursor of every sink whose watermark moved (crash-atomically).
    func persistCursors() {
        let changed = state.withLock { s -> [(String, UInt64)] in
            s.sinks.compactMap { name, sink in
                s.persistedWatermarks[name] == sink.watermark ? nil : (name, sink.watermark)
            }
        }
        for (name, watermark) in changed {
            let write = { () throws(OutboxError) in try self.writeCursor(name, watermark) }
            // On a full disk, give up the reserve so the cursor, and then the deletion
            // of delivered segments, can go ahead. Failing even so is not fatal: the
            // cursor stays behind (and is tried again in 200 ms), and records are
            // delivered again after a crash.
            do throws(OutboxError) {
                do {
                    try write()
                } catch {
                    guard fileSystem.exists(paths.reserve) else { throw error }
                    try fileSystem.remove(paths.reserve)
                    logger.warning("outbox: gave up the space reserve to write a cursor", metadata: ["error": "\(error)"])
                    try write()
                }
                errors.cleared("cursor write")
            } catch {
                errors.report(error, during: "cursor write")
            }
        }
    }

    /// Writes `sink`'s cursor crash-atomically (temporary file, `fdatasync`,
    /// `rename`, directory `fsync`), then records it as persisted: the one
    /// cursor writer. On the I/O queue, or while opening.
    func writeCursor(_ sink: String, _ watermark: UInt64) throws(OutboxError) {
        try fileSystem.replaceAtomically(paths.cursor(sink), with: CursorFile.encode(watermark: watermark), directory: paths.cursors)
        state.withLock { $0.persistedWatermarks[sink] = watermark }
    }

    /// Space set aside so that cursors can still be written on a full disk.
    /// Without it a full disk blocks its own cure: delivered segments are
    /// deleted only once the cursors that pass them are on disk, and writing a
    /// cursor needs a little space.
    static let reserveBytes = 1 << 20

    /// Creates the reserve file when it is missing and the disk has twice its size free.
    func ensureReserve(free: Int64) {
        guard free >= Int64(Self.reserveBytes) * 2, !fileSystem.exists(paths.reserve) else { return }
        do throws(OutboxError) {
            try fileSystem.replaceAtomically(paths.reserve, with: [UInt8](repeating: 0, count: Self.reserveBytes), directory: directory)
            errors.cleared("reserve creation")
        } catch {
            errors.report(error, during: "reserve creation")
        }
    }

    /// Reads the filesystem's free space into the state (what `disk_low` is
    /// judged by); `nil`, reported, when it cannot be read.
    @discardableResult
    func refreshFreeBytes() -> Int64? {
        do throws(OutboxError) {
            let free = try fileSystem.freeBytes(directory)
            state.withLock { $0.freeBytes = free }
            errors.cleared("free-space check")
            return free
        } catch {
            errors.report(error, during: "free-space check")
            return nil
        }
    }

    /// Deletes whole segments that every sink has passed and that retention no
    /// longer protects. The active segment is never deleted. Over `maxBytes`,
    /// delivered segments go regardless of retention.
    ///
    /// "Passed" by both the persisted cursor (so a crash cannot resurrect a
    /// cursor pointing into a deleted segment) and the one in memory (a rewind
    /// moves that back at once, before its cursor is written: deleting by the
    /// persisted one alone took the records it was about to deliver again).
    func collectGarbage(now: Int64) throws(OutboxError) {
        let doomed = state.withLock { s -> [Segment] in
            guard s.segments.count > 1 else { return [] }
            let inMemory = s.sinks.values.map(\.watermark).min() ?? .max
            let done = min(s.persistedWatermarks.values.min() ?? (s.segments.last!.baseSequence - 1), inMemory)
            var deliveredBytes: Int64 = 0
            for segment in s.segments.dropLast() where segment.recordCount == 0 || segment.lastSequence <= done {
                deliveredBytes += segment.bytes
            }
            var doomed: [Segment] = []
            var total = s.totalBytes
            for segment in s.segments.dropLast() {
                guard segment.recordCount == 0 || segment.lastSequence <= done else { break }
                let expired = (segment.lastAppendTime ?? 0) < now - configuration.retentionSeconds * 1000
                let overRetentionBytes = deliveredBytes > configuration.retentionBytes
                let overMax = total > configuration.maxBytes * 9 / 10
                guard expired || overRetentionBytes || overMax else { break }
                doomed.append(segment)
                deliveredBytes -= segment.bytes
                total -= segment.bytes
            }
            s.segments.removeFirst(doomed.count)
            s.totalBytes = total
            // Routed records in deleted segments no longer count for anything.
            if !doomed.isEmpty, let oldest = s.segments.first?.baseSequence { s.routed.removeAll { $0.sequence < oldest } }
            return doomed
        }
        guard !doomed.isEmpty else { return }
        for segment in doomed {
            try fileSystem.remove(paths.segment(base: segment.baseSequence))
        }
        try fileSystem.syncDirectory(paths.segments)
    }
}
