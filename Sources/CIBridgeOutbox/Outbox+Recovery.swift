extension Outbox {
    struct Recovered {
        var segments: [Segment]
        var nextSequence: UInt64
        var watermarks: [String: UInt64]
        var report: RecoveryReport
        /// Records for some sinks only, oldest first.
        var routed: [RoutedRecord]
        /// Per sink, dead letters not requeued.
        var deadLetters: [String: Int]
    }

    /// Scans every segment, verifies every frame, and (when `repair`) cuts torn
    /// tails, moves damaged ranges to quarantine and rewrites segments without them.
    static func recover(
        directory: String, configuration: OutboxConfiguration, repair: Bool, fileSystem: any OutboxFileSystem
    ) throws(OutboxError) -> Recovered {
        let paths = OutboxPaths(directory: directory)
        let segmentsDirectory = paths.segments
        let quarantineDirectory = paths.quarantine
        var report = RecoveryReport()
        var names = try fileSystem.list(segmentsDirectory)
        if repair {
            for name in names where name.hasSuffix(".tmp") { try fileSystem.remove(segmentsDirectory + "/" + name) }
        }
        names = names.filter { $0.hasSuffix(Segment.suffix) }.sorted()
        var segments: [Segment] = []
        var routed: [RoutedRecord] = []
        var last: UInt64 = 0
        var directoryChanged = false

        for name in names {
            guard let base = UInt64(name.dropLast(Segment.suffix.count)) else { continue }
            let path = segmentsDirectory + "/" + name
            var file = try fileSystem.open(path, readOnly: !repair)
            var bytes = try file.readAll()
            let maxBody = Int(max(configuration.segmentBytes, Int64(bytes.count)))
            let scan = LogScanner.scan(bytes, expectedBase: base, after: max(last, base &- 1), maxBody: maxBody)

            for damage in scan.damage {
                let region = Array(bytes[Int(damage.start)..<Int(damage.end)])
                if damage.isTail { report.truncatedTailBytes += damage.end - damage.start } else { report.quarantinedRegions += 1 }
                report.notes.append("\(name): \(damage.reason) at byte \(damage.start), \(region.count) bytes \(damage.isTail ? "cut from the tail" : "moved out")")
                guard repair, region.contains(where: { $0 != 0 }) else { continue }
                let quarantine = quarantineDirectory + "/" + name.dropLast(Segment.suffix.count) + "-\(damage.start).bin"
                try fileSystem.replaceAtomically(quarantine, with: region, directory: quarantineDirectory)
            }

            if repair && scan.validEnd == 0 {
                // Not even a header: the crash hit segment creation. Start it again.
                try file.truncate(to: 0)
                try file.write(Segment.header(base: base), at: 0)
                try file.syncData()
                bytes = Segment.header(base: base)
            } else if repair && scan.damage.contains(where: { !$0.isTail }) {
                // Damage in the middle: rewrite the segment with only its valid frames.
                var clean = Segment.header(base: base)
                for frame in scan.frames { clean += bytes[Int(frame.offset)..<(Int(frame.offset) + frame.size)] }
                try fileSystem.replaceAtomically(path, with: clean, directory: segmentsDirectory)
                file = try fileSystem.open(path)
                bytes = clean
                directoryChanged = true
            } else if repair && scan.validEnd < Int64(bytes.count) {
                try file.truncate(to: scan.validEnd)
                try file.syncData()
            }

            var segment = Segment(baseSequence: base, file: file, endOffset: Segment.headerSize)
            // Offsets again from the (possibly rewritten) bytes.
            let rescanned = scan.damage.contains(where: { !$0.isTail }) && repair
                ? LogScanner.scan(bytes, expectedBase: base, after: max(last, base &- 1), maxBody: maxBody).frames : scan.frames
            for frame in rescanned {
                segment.index(sequence: frame.sequence, offset: frame.offset, appendTime: frame.appendTime, size: frame.size)
                if !frame.routing.isEmpty { routed.append(RoutedRecord(sequence: frame.sequence, sinks: frame.routing)) }
            }
            if repair && segment.recordCount == 0 && name != names.last {
                // An empty segment before others holds nothing: a rotation that failed
                // half-way left it. Kept, it would pass for the oldest record kept.
                try fileSystem.remove(path)
                directoryChanged = true
                report.notes.append("\(name): empty and not the last segment: removed")
                continue
            }
            last = max(last, segment.recordCount > 0 ? segment.lastSequence : base &- 1)
            report.records += segment.recordCount
            segments.append(segment)
        }

        // Cursors. A missing or damaged one restarts its sink at the oldest record:
        // at-least-once, never a skipped record.
        let firstSequence = segments.first?.baseSequence ?? 1
        var watermarks: [String: UInt64] = [:]
        for sink in configuration.sinks {
            let path = paths.cursor(sink)
            var watermark = firstSequence - 1
            if fileSystem.exists(path) {
                if let value = CursorFile.decode((try? fileSystem.open(path, readOnly: true).readAll()) ?? []) {
                    watermark = max(value, firstSequence - 1)
                } else {
                    report.resetCursors.append(sink)
                    report.notes.append("cursor of sink \(sink) is damaged: delivering again from sequence \(firstSequence)")
                }
            } else if !segments.isEmpty && last >= firstSequence {
                report.notes.append("sink \(sink) has no cursor: delivering from sequence \(firstSequence)")
            }
            watermarks[sink] = watermark
        }

        // Never reuse a sequence number, even one a cursor already passed.
        let nextSequence = max(last + 1, (watermarks.values.max() ?? 0) + 1, segments.last?.baseSequence ?? 1)
        if repair {
            if let tail = segments.last, tail.recordCount == 0, tail.baseSequence != nextSequence {
                segments.removeLast()
                try fileSystem.remove(paths.segment(base: tail.baseSequence))
                directoryChanged = true
            }
            let needsNewSegment: Bool
            if let tail = segments.last {
                needsNewSegment = tail.recordCount > 0 ? tail.lastSequence + 1 != nextSequence : tail.baseSequence != nextSequence
            } else {
                needsNewSegment = true
            }
            if needsNewSegment {
                let created = try Segment.create(directory: segmentsDirectory, base: nextSequence, fileSystem: fileSystem)
                try created.file.syncData()
                segments.append(created)
                directoryChanged = true
            }
            if directoryChanged { try fileSystem.syncDirectory(segmentsDirectory) }
        }
        report.segments = segments.count
        var deadLetters: [String: Int] = [:]
        for sink in configuration.sinks {
            do throws(OutboxError) {
                let log = try recoverDeadLetters(sink, paths: paths, repair: repair, fileSystem: fileSystem)
                if let cut = log.cutBytes {
                    report.truncatedTailBytes += cut
                    report.notes.append("dead-letter log of sink \(sink): a torn last frame, \(cut) bytes cut from the tail")
                }
                deadLetters[sink] = log.waiting
            } catch {
                report.notes.append("dead-letter log of sink \(sink) is unreadable (\(error.message)): counted as 0")
            }
        }
        report.quarantinedTotal =
            fileSystem.exists(quarantineDirectory) ? try fileSystem.list(quarantineDirectory).filter { $0.hasSuffix(".bin") }.count : 0
        return Recovered(
            segments: segments, nextSequence: nextSequence, watermarks: watermarks, report: report, routed: routed,
            deadLetters: deadLetters)
    }

    /// Reads `sink`'s dead-letter log once: how many dead letters wait (not
    /// requeued) and, when `repair`, cuts a torn last frame a crash left (a write
    /// never acknowledged), since the next dead letter would follow it. The bytes
    /// go to `quarantine/` first, like a segment's. Only a tail: damage followed
    /// by valid frames stays (readers skip it). `cutBytes` is `nil` when nothing was cut.
    static func recoverDeadLetters(
        _ sink: String, paths: OutboxPaths, repair: Bool, fileSystem: any OutboxFileSystem
    ) throws(OutboxError) -> (waiting: Int, cutBytes: Int64?) {
        let path = paths.deadLetterLog(sink)
        guard fileSystem.exists(path) else { return (0, nil) }
        let file = try fileSystem.open(path, readOnly: !repair)
        let bytes = try file.readAll()
        let decoded = DeadLetterLog.decode(bytes)
        let waiting = decoded.entries.filter { !$0.requeued }.count
        let valid = decoded.validLength
        guard repair, valid < bytes.count else { return (waiting, nil) }
        let tail = Array(bytes[valid...])
        if tail.contains(where: { $0 != 0 }) {
            try fileSystem.replaceAtomically(
                paths.quarantine + "/dead-letters-\(sink)-\(valid).bin", with: tail, directory: paths.quarantine)
        }
        try file.truncate(to: Int64(valid))
        try file.syncData()
        return (waiting, Int64(bytes.count - valid))
    }
}
