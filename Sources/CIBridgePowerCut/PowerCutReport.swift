/// What one or more power-cut runs did and found. Every "found" figure must be 0.
public struct PowerCutReport: Sendable, Hashable {
    public var runs = 0
    public var operations = 0
    public var appendsAcknowledged = 0
    public var powerCuts = 0
    /// Of them, cuts that landed while an outbox was recovering from the one before.
    public var cutsDuringRecovery = 0
    /// Post-crash states explored: files torn mid-write, files that lost every
    /// unsynced change, files that kept them, directory changes undone.
    public var tornWrites = 0
    public var filesDropped = 0
    public var filesKept = 0
    public var entriesUndone = 0
    public var injected = PowerCutFileSystem.FaultCounts()
    /// How many cuts landed just before each kind of call (`between calls` for the rest).
    public var cutsBefore: [String: Int] = [:]

    /// Acknowledged records missing after recovery (not yet passed by a cursor).
    public var lost = 0
    /// Cursors past a record their sink neither delivered nor dead-lettered on disk.
    public var cursorsAhead = 0
    /// Records in the log that no one appended, or whose bytes differ from the append.
    public var phantoms = 0
    /// Records out of sequence order.
    public var outOfOrder = 0
    /// Dead letters whose write returned, missing after recovery.
    public var deadLettersLost = 0
    /// Cursor files found damaged (a sink sent back to the oldest record).
    public var damagedCursors = 0
    /// Opens that failed or did not finish after a cut.
    public var recoveryFailures = 0
    /// Appends accepted after a failed `fdatasync`.
    public var appendsAfterSyncFailure = 0
    /// The first few findings, one line each.
    public var findings: [String] = []

    public init() {}

    public var failures: Int {
        lost + cursorsAhead + damagedCursors + phantoms + outOfOrder + deadLettersLost + recoveryFailures + appendsAfterSyncFailure
    }

    /// Counts cut `number` of run `seed`: what it explored, where it landed, and
    /// as a failure any file it could not rewrite.
    mutating func count(_ cut: CutReport, number: Int, seed: UInt64, duringRecovery: Bool) {
        powerCuts += 1
        if duringRecovery { cutsDuringRecovery += 1 }
        tornWrites += cut.filesTorn
        filesDropped += cut.filesDropped
        filesKept += cut.filesKept
        entriesUndone += cut.entriesUndone
        let place = cut.landedBefore ?? (duringRecovery ? "no call" : "between calls")
        cutsBefore[(duringRecovery ? "recovery: " : "") + place, default: 0] += 1
        if !cut.unwritable.isEmpty {
            recoveryFailures += 1
            findings.append("seed \(seed), cut \(number): could not rewrite \(cut.unwritable)")
        }
    }

    mutating func add(_ other: PowerCutReport) {
        runs += other.runs
        operations += other.operations
        appendsAcknowledged += other.appendsAcknowledged
        powerCuts += other.powerCuts
        cutsDuringRecovery += other.cutsDuringRecovery
        tornWrites += other.tornWrites
        filesDropped += other.filesDropped
        filesKept += other.filesKept
        entriesUndone += other.entriesUndone
        injected.syncFailures += other.injected.syncFailures
        injected.noSpace += other.injected.noSpace
        injected.shortWrites += other.injected.shortWrites
        cutsBefore.merge(other.cutsBefore, uniquingKeysWith: +)
        lost += other.lost
        cursorsAhead += other.cursorsAhead
        phantoms += other.phantoms
        outOfOrder += other.outOfOrder
        deadLettersLost += other.deadLettersLost
        recoveryFailures += other.recoveryFailures
        damagedCursors += other.damagedCursors
        appendsAfterSyncFailure += other.appendsAfterSyncFailure
        findings += other.findings.prefix(max(0, 10 - findings.count))
    }

    /// Merges `other` into a copy.
    public func adding(_ other: PowerCutReport) -> PowerCutReport {
        var sum = self
        sum.add(other)
        return sum
    }

    /// Where the cuts landed, most frequent first: `fdatasync (segment data) 31, …`.
    public var cutPoints: String {
        cutsBefore.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
    }

    /// The one-line summary `scripts/powercut` ends with.
    public var summary: String {
        "runs \(runs), operations \(operations), appends acknowledged \(appendsAcknowledged), power cuts \(powerCuts) (\(cutsDuringRecovery) during recovery), "
            + "torn writes \(tornWrites), files dropped/kept \(filesDropped)/\(filesKept), directory changes undone \(entriesUndone), "
            + "injected EIO \(injected.syncFailures) ENOSPC \(injected.noSpace) short writes \(injected.shortWrites), "
            + "acknowledged records lost \(lost), cursors ahead of data \(cursorsAhead), damaged cursors \(damagedCursors), phantom records \(phantoms), "
            + "out of order \(outOfOrder), dead letters lost \(deadLettersLost), recovery failures \(recoveryFailures), "
            + "appends after a failed sync \(appendsAfterSyncFailure)"
    }
}
