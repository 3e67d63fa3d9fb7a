import Dispatch

extension Outbox {
    /// Every 200 ms on the I/O queue: persist changed cursors, delete segments
    /// every sink is done with once retention allows, refresh the free-space figure.
    func scheduleMaintenance() {
        io.asyncAfter(deadline: .now() + .milliseconds(200)) { [weak self] in
            guard let self, !self.state.withLock({ $0.closed }) else { return }
            self.persistCursors()
            try? self.collectGarbage(now: Self.nowMilliseconds())
            let free = (try? SystemFile.freeBytes(self.directory)) ?? .max
            self.state.withLock { $0.freeBytes = free }
            self.ensureReserve(free: free)
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
            let path = cursorsDirectory + "/" + name + CursorFile.suffix
            let bytes = CursorFile.encode(watermark: watermark)
            let directory = cursorsDirectory
            let write = { (try? SystemFile.replaceAtomically(path, with: bytes, directory: directory)) != nil }
            // On a full disk, give up the reserve so the cursor, and then the deletion
            // of delivered segments, can go ahead. Failing even so is not fatal: the
            // cursor stays behind and records are delivered again after a crash.
            if write() || (SystemFile.exists(reservePath) && (try? SystemFile.remove(reservePath)) != nil && write()) {
                state.withLock { $0.persistedWatermarks[name] = watermark }
            }
        }
    }

    /// Space set aside so that cursors can still be written on a full disk.
    /// Without it a full disk blocks its own cure: delivered segments are
    /// deleted only once the cursors that pass them are on disk, and writing a
    /// cursor needs a little space.
    static let reserveBytes = 1 << 20

    var reservePath: String { directory + "/reserve" }

    /// Creates the reserve file when it is missing and the disk has twice its size free.
    func ensureReserve(free: Int64) {
        guard free >= Int64(Self.reserveBytes) * 2, !SystemFile.exists(reservePath) else { return }
        try? SystemFile.replaceAtomically(reservePath, with: [UInt8](repeating: 0, count: Self.reserveBytes), directory: directory)
    }

    /// Deletes whole segments that every sink has passed (by persisted cursor, so
    /// a crash cannot resurrect a cursor pointing into a deleted segment) and that
    /// retention no longer protects. The active segment is never deleted. Over
    /// `maxBytes`, delivered segments go regardless of retention.
    func collectGarbage(now: Int64) throws(OutboxError) {
        let doomed = state.withLock { s -> [Segment] in
            guard s.segments.count > 1 else { return [] }
            let done = s.persistedWatermarks.values.min() ?? (s.segments.last!.baseSequence - 1)
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
            return doomed
        }
        guard !doomed.isEmpty else { return }
        for segment in doomed {
            try SystemFile.remove(segmentsDirectory + "/" + Segment.fileName(base: segment.baseSequence))
        }
        try SystemFile.syncDirectory(segmentsDirectory)
    }
}
