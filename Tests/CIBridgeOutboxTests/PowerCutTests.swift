import CIBridgeHTTP
@testable import CIBridgeOutbox
import CIBridgePowerCut
import CIBridgeTestSupport
import Foundation
import Logging
import Testing

/// Power cuts, not process deaths: what the outbox keeps when unsynced data
/// and directory entries are lost (``PowerCutFileSystem``). docs/reliability.md,
/// "Power cuts", and docs/outbox.md, "Which fsync protects what".
@Suite("Power cuts")
struct PowerCutTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// An outbox at `directory` (default `scratch/outbox`) over a fresh power-cut layer.
    static func open(
        _ scratch: TemporaryDirectory, at directory: String? = nil, seed: UInt64, ignoring site: SyncSite? = nil,
        configuration: OutboxConfiguration = OutboxConfiguration(sinks: ["s"], minFreeBytes: 0)
    ) async throws -> (layer: PowerCutFileSystem, outbox: Outbox) {
        let directory = directory ?? scratch.file("outbox")
        let layer = try PowerCutFileSystem(root: directory, backups: scratch.file("backups"), seed: seed, ignoring: site)
        let outbox = try await Outbox.open(directory: directory, configuration: configuration, logger: quiet, fileSystem: layer)
        return (layer, outbox)
    }

    /// Opens an outbox at `outbox` over a fresh layer, appends `count` records,
    /// cuts the power in the strict way (nothing unsynced survives), and
    /// returns how many records a plain reopen finds.
    static func survivors(
        outbox: String, scratch: TemporaryDirectory, count: Int = 3, ignoring site: SyncSite? = nil
    ) async throws -> Int {
        let (layer, opened) = try await open(scratch, at: outbox, seed: 1, ignoring: site)
        _ = try await opened.append((0..<count).map { entry($0) })
        layer.cutPower(strict: true)
        await opened.close()
        guard FileManager.default.fileExists(atPath: outbox + "/segments") else { return 0 }
        return try OutboxInspector(directory: outbox).records().count
    }

    // MARK: - Regressions: each failed before its fix

    @Test("An outbox directory that opening made survives a power cut (its parent is synced)")
    func newOutboxDirectory() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        // As under systemd's StateDirectory=: the parent exists, the outbox does not.
        try FileManager.default.createDirectory(atPath: scratch.file("state2"), withIntermediateDirectories: true)
        #expect(try await Self.survivors(outbox: scratch.file("state2/outbox"), scratch: scratch) == 3)
    }

    @Test("Subdirectories survive a power cut even when the reserve file already exists")
    func subdirectoriesWithoutReserve() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let outbox = scratch.file("outbox")
        // Made before the layer, so durable: a directory with its reserve and nothing else.
        try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: outbox + "/reserve", contents: Data(count: 1 << 20))
        #expect(try await Self.survivors(outbox: outbox, scratch: scratch) == 3)
    }

    @Test("A refused body the quarantine kept survives a power cut")
    func rejectedBody() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        #expect(try await Self.keptBody(scratch: scratch) == Array("<Response><A></Response>".utf8))
    }

    @Test("A torn dead-letter frame is cut and damage in the middle skipped: no dead letter written after either is lost")
    func tornDeadLetter() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let directory = scratch.file("outbox")
        let configuration = OutboxConfiguration(sinks: ["s"], minFreeBytes: 0)
        var outbox = try await Outbox.open(directory: directory, configuration: configuration, logger: Self.quiet)
        _ = try await outbox.append([entry(1), entry(2)])
        let first = try await outbox.take(2, from: "s")
        #expect(try await outbox.deadLetter("s", first[0].sequence, reason: "first"))
        await outbox.close()
        // What a power cut leaves of an unsynced second dead letter: half a frame.
        let log = directory + "/dead-letters/s.log"
        let firstFrame = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x43, 0x49, 0x42, 0x52, 0x01, 0x02, 0x03]))
        try handle.close()
        outbox = try await Outbox.open(directory: directory, configuration: configuration, logger: Self.quiet)
        let again = try await outbox.take(1, from: "s")
        #expect(try await outbox.deadLetter("s", again[0].sequence, reason: "second"))
        #expect(try outbox.deadLetters(for: "s").map(\.reason) == ["first", "second"])
        await outbox.close()
        // Damage in the middle (a frame a failed write left behind) is skipped, never cut:
        // the dead letters after it stay.
        var damaged = try Data(contentsOf: URL(fileURLWithPath: log))
        damaged.insert(contentsOf: Data([0xDE, 0xAD, 0xBE, 0xEF, 0x01]), at: firstFrame)
        try damaged.write(to: URL(fileURLWithPath: log))
        let third = try await Outbox.open(directory: directory, configuration: configuration, logger: Self.quiet)
        #expect(try third.deadLetters(for: "s").map(\.reason) == ["first", "second"])
        await third.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: log)) == damaged)
    }

    @Test("A dead-letter log created by a write that failed is synced into its directory by the next write")
    func deadLetterLogEntry() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let directory = scratch.file("outbox")
        let (layer, outbox) = try await Self.open(scratch, seed: 6)
        _ = try await outbox.append([entry(1), entry(2)])
        let records = try await outbox.take(2, from: "s")
        // The first dead letter creates the log, then the disk is full.
        layer.setFaults(FaultPlan(noSpace: 1))
        await #expect(throws: OutboxError.self) { try await outbox.deadLetter("s", records[0].sequence, reason: "first") }
        layer.setFaults(.none)
        #expect(try await outbox.deadLetter("s", records[1].sequence, reason: "second"))
        layer.cutPower(strict: true)
        await outbox.close()
        #expect(try OutboxInspector(directory: directory).deadLetters(sink: "s").map(\.reason) == ["second"])
    }

    @Test("A rotation that fails on a full disk leaves no half-made segment, and recovery drops one it finds")
    func failedRotation() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let directory = scratch.file("outbox")
        var configuration = OutboxConfiguration(sinks: ["s"], segmentBytes: 1024, minFreeBytes: 0)
        configuration.maintenanceMilliseconds = 600_000
        let (layer, outbox) = try await Self.open(scratch, seed: 7, configuration: configuration)
        _ = try await outbox.append([entry(1, size: 600)])
        // The next append needs a new segment; the disk is full while it is made.
        layer.setFaults(FaultPlan(noSpace: 1))
        await #expect(throws: OutboxError.self) { try await outbox.append([entry(2, size: 600)]) }
        layer.setFaults(.none)
        #expect(try await outbox.append([entry(3, size: 600)]) == [3])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/segments").sorted()
        #expect(names == [Segment.fileName(base: 1), Segment.fileName(base: 3)])
        await outbox.close()
        // One left by a crash (half a header, before the last segment) is removed at the next start.
        FileManager.default.createFile(atPath: directory + "/segments/" + Segment.fileName(base: 2), contents: Data("CIBR".utf8))
        let reopened = try await Outbox.open(directory: directory, configuration: configuration, logger: Self.quiet)
        #expect(reopened.status().firstSequence == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/segments").sorted() == names)
        await reopened.close()
    }

    /// Keeps one refused body through the layer, cuts the power strictly,
    /// and returns the body file's bytes afterwards (`nil`: gone).
    static func keptBody(scratch: TemporaryDirectory, ignoring site: SyncSite? = nil) async throws -> [UInt8]? {
        let rejected = scratch.file("rejected")
        let layer = try PowerCutFileSystem(root: scratch.path, backups: scratch.file("backups"), seed: 2, ignoring: site)
        let quarantine = try Quarantine(directory: rejected, fileSystem: layer)
        let name = try #require(try await quarantine.keep(body: Array("<Response><A></Response>".utf8), headers: [], reason: "malformed_xml", remote: nil))
        layer.cutPower(strict: true)
        return FileManager.default.contents(atPath: rejected + "/" + name).map { Array($0) }
    }

    @Test("A rewind that returned survives a power cut")
    func rewindSurvives() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        #expect(try await Self.watermarkAfterRewind(scratch: scratch) == 0)
    }

    /// Delivers 5 records, waits until the cursor says so on disk, rewinds to
    /// the start, cuts the power strictly: the cursor's watermark afterwards.
    static func watermarkAfterRewind(scratch: TemporaryDirectory, ignoring site: SyncSite? = nil) async throws -> UInt64? {
        let directory = scratch.file("outbox")
        var configuration = OutboxConfiguration(sinks: ["s"], minFreeBytes: 0)
        configuration.maintenanceMilliseconds = 5
        let (layer, outbox) = try await open(scratch, seed: 5, configuration: configuration)
        _ = try await outbox.append((0..<5).map { entry($0) })
        for record in try await outbox.take(5, from: "s") { outbox.ack("s", record.sequence) }
        let deadline = ContinuousClock.now + .seconds(5)
        while try OutboxInspector(directory: directory).status().sinks.first?.watermark != 5, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        // Only the rewind's own syncs are left out, if any: the cursor at 5 is on disk.
        layer.ignore(site)
        try await outbox.rewind("s", toSequence: 1)
        layer.cutPower(strict: true)
        await outbox.close()
        return try OutboxInspector(directory: directory).status().sinks.first?.watermark
    }

    // MARK: - The layer itself

    @Test("The layer drops unsynced appends and undoes unsynced entries, and keeps what was synced")
    func layerModel() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let layer = try PowerCutFileSystem(root: scratch.path, backups: scratch.file("backups"), seed: 3)
        let synced = try layer.open(scratch.file("a"), create: true)
        try synced.write(Array("durable".utf8), at: 0)
        try synced.syncData()
        try layer.syncDirectory(scratch.path)
        try synced.write(Array(" and not".utf8), at: 7)
        let unsyncedEntry = try layer.open(scratch.file("b"), create: true)
        try unsyncedEntry.write(Array("x".utf8), at: 0)
        try unsyncedEntry.syncData()
        try layer.remove(scratch.file("a"))
        let report = layer.cutPower(strict: true)
        #expect(FileManager.default.contents(atPath: scratch.file("a")).map { String(decoding: $0, as: UTF8.self) } == "durable")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("b")))
        #expect(report.entriesUndone == 2 && report.filesDropped == 1)
        // Switched off: the old handles can do nothing more.
        #expect(throws: OutboxError.self) { try synced.write(Array("late".utf8), at: 0) }
    }

    @Test("A torn write keeps a prefix cut at any byte, not only at a page boundary")
    func tornWrites() async throws {
        var lengths = Set<Int>()
        for seed in 0..<40 as Range<UInt64> {
            let scratch = try TemporaryDirectory("powercut")
            defer { scratch.remove() }
            FileManager.default.createFile(atPath: scratch.file("f"), contents: Data())
            let layer = try PowerCutFileSystem(root: scratch.path, backups: scratch.file("backups"), seed: seed)
            let file = try layer.open(scratch.file("f"))
            try file.write([UInt8](repeating: 7, count: 100), at: 0)
            try file.write([UInt8](repeating: 8, count: 100), at: 100)
            layer.cutPower()
            lengths.insert(try #require(FileManager.default.contents(atPath: scratch.file("f"))).count)
        }
        // Dropped (0), kept (200), and torn lengths in between, odd ones included.
        #expect(lengths.contains(0) && lengths.contains(200))
        #expect(lengths.contains { $0 % 2 == 1 && $0 < 200 })
    }

    @Test("After an injected EIO on fdatasync the outbox refuses every later append")
    func fsyncgate() async throws {
        let scratch = try TemporaryDirectory("powercut")
        defer { scratch.remove() }
        let (layer, outbox) = try await Self.open(scratch, seed: 4)
        _ = try await outbox.append([entry(1)])
        layer.setFaults(FaultPlan(syncFailure: 1))
        await #expect(throws: OutboxError.self) { try await outbox.append([entry(2)]) }
        layer.setFaults(.none)
        let refused = await #expect(throws: OutboxError.self) { try await outbox.append([entry(3)]) }
        #expect(refused?.code == .io)
        await outbox.close()
    }

    // MARK: - The model-based run

    /// Runs `seeds` power-cut runs one after the other, each in a directory of its own; the summed report.
    static func run(seeds: Range<UInt64>, cuts: Int = 6, faults: FaultPlan = .none, ignoring site: SyncSite? = nil) async throws -> PowerCutReport {
        var total = PowerCutReport()
        for seed in seeds {
            let scratch = try TemporaryDirectory("powercut")
            defer { scratch.remove() }
            total = total.adding(await PowerCutRun(seed: seed, directory: scratch.path, cuts: cuts, faults: faults, ignoring: site).run())
        }
        return total
    }

    @Test("Random operations and power cuts: nothing acknowledged lost, no cursor ahead of its data (bounded)")
    func modelBased() async throws {
        let report = try await Self.run(seeds: 0..<12)
        print("power cuts: \(report.summary)")
        #expect(report.failures == 0, "\(report.findings.joined(separator: "\n"))")
        #expect(report.powerCuts == 72)
        #expect(report.appendsAcknowledged > 500 && report.tornWrites > 0 && report.entriesUndone > 0)
    }

    @Test("The same with injected EIO, ENOSPC and short writes")
    func modelBasedWithFaults() async throws {
        let report = try await Self.run(seeds: 100..<110, faults: FaultPlan(syncFailure: 0.01, noSpace: 0.02, shortWrite: 0.05))
        print("power cuts with faults: \(report.summary)")
        #expect(report.failures == 0, "\(report.findings.joined(separator: "\n"))")
        #expect(report.injected.syncFailures > 0 && report.injected.noSpace > 0 && report.injected.shortWrites > 0)
    }
}

/// docs/outbox.md, "Which fsync protects what": leave each sync out in turn
/// (the layer ignores it, as if the call were deleted) and show that a test
/// notices. A sync no test misses would be a sync nobody can justify.
@Suite("Each fsync matters")
struct FsyncMattersTests {
    /// The first seeds of the model-based run that find something with `site` left out.
    static func caught(_ site: SyncSite, seeds: Range<UInt64> = 0..<40) async throws -> PowerCutReport {
        var total = PowerCutReport()
        for seed in seeds {
            let scratch = try TemporaryDirectory("fsync")
            defer { scratch.remove() }
            total = total.adding(await PowerCutRun(seed: seed, directory: scratch.path, cuts: 6, ignoring: site).run())
            if total.failures > 0 { break }
        }
        return total
    }

    @Test(
        "Leaving out a sync of the log, cursors or dead letters loses or skips records",
        arguments: [SyncSite.segmentData, .segmentDirectory, .cursorData, .deadLetterData, .deadLetterDirectory])
    func modelRunCatches(_ site: SyncSite) async throws {
        let report = try await Self.caught(site)
        print("without \(site) sync: after \(report.runs) runs: \(report.summary); first: \(report.findings.first ?? "-")")
        #expect(report.failures > 0)
    }

    @Test("Leaving out the outbox directory's syncs loses the whole outbox")
    func directorySyncs() async throws {
        let scratch = try TemporaryDirectory("fsync")
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("state"), withIntermediateDirectories: false)
        #expect(try await PowerCutTests.survivors(outbox: scratch.file("state/outbox"), scratch: scratch, ignoring: .parentDirectory) == 0)
        let second = scratch.file("second")
        try FileManager.default.createDirectory(atPath: second, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: second + "/reserve", contents: Data(count: 1 << 20))
        #expect(try await PowerCutTests.survivors(outbox: second, scratch: scratch, ignoring: .outboxDirectory) == 0)
    }

    @Test("Leaving out the cursors/ directory's sync forgets a rewind (the cursor's data sync: a damaged cursor)")
    func cursorSyncs() async throws {
        let scratch = try TemporaryDirectory("fsync")
        defer { scratch.remove() }
        #expect(try await PowerCutTests.watermarkAfterRewind(scratch: scratch, ignoring: .cursorDirectory) == 5)
    }

    @Test("Leaving out the quarantine's syncs loses a refused body")
    func quarantineSyncs() async throws {
        let scratch = try TemporaryDirectory("fsync")
        defer { scratch.remove() }
        #expect(try await PowerCutTests.keptBody(scratch: scratch, ignoring: .keptBodies) == nil)
    }
}

