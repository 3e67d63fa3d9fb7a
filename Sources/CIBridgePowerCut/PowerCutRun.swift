#if canImport(Glibc)
import Glibc
#endif
import CIBridgeOutbox
import Foundation
import Logging
import Synchronization

/// One model-based power-cut run (docs/reliability.md, "Power cuts").
///
/// An outbox over ``PowerCutFileSystem`` takes random operations: appends
/// from several writers at once, two sinks that deliver, retry and
/// dead-letter, rewinds, requeues, segment rotation and deletion, cursor
/// writes. At a random point, often in the middle of appends, the power is
/// cut; the outbox is opened again from whatever the cut left, and checked
/// against everything the operations were told:
/// - every append that returned is present, intact, in order, unless every
///   sink's cursor has passed it;
/// - no record appears that was never appended;
/// - no cursor is past a record its sink neither delivered nor dead-lettered;
/// - every dead letter whose write returned is kept;
/// - opening never fails and finishes;
/// - after a failed `fdatasync` no append is accepted.
public struct PowerCutRun: Sendable {
    public var seed: UInt64
    /// Power cuts in the run; it opens the outbox once more than that.
    public var cuts: Int
    /// Operations between two cuts, at most.
    public var operations: Int
    public var faults: FaultPlan
    /// A sync to leave out, as if deleted from the code.
    public var ignoring: SyncSite?
    /// A directory of its own, empty or not yet made (its parent must exist).
    public var directory: String
    /// On a finding, write every disk call of the run to standard error.
    public var tracing = false

    public init(seed: UInt64, directory: String, cuts: Int = 8, operations: Int = 40, faults: FaultPlan = .none, ignoring: SyncSite? = nil) {
        self.seed = seed
        self.directory = directory
        self.cuts = cuts
        self.operations = operations
        self.faults = faults
        self.ignoring = ignoring
    }

    static let sinks = ["kafka", "redis"]

    /// Small segments and immediate deletion of delivered ones, so rotations
    /// and deletions happen between cuts.
    static var configuration: OutboxConfiguration {
        var configuration = OutboxConfiguration(
            sinks: sinks, segmentBytes: 2048, fsync: .always, maxBytes: 256 << 20, minFreeBytes: 0, retentionSeconds: 0,
            retentionBytes: 0, retry: RetryPolicy(baseMilliseconds: 2, maxMilliseconds: 20), maxInFlightPerSink: 32)
        configuration.maintenanceMilliseconds = 3
        return configuration
    }

    /// Runs it; the report counts what was done and every violation found.
    public func run() async -> PowerCutReport {
        var report = PowerCutReport()
        report.runs = 1
        var random = SeededGenerator(seed: seed)
        let ledger = RunLedger()
        let outboxDirectory = directory + "/outbox"
        let quiet = Logger(label: "cibridge.powercut") { _ in SwiftLogNoOpLogHandler() }
        mkdir(directory, 0o750)
        var lastCut: CutReport?
        var trace: [String] = []
        for epoch in 0...cuts {
            let fileSystem: PowerCutFileSystem
            do {
                fileSystem = try PowerCutFileSystem(
                    root: outboxDirectory, backups: directory + "/backups", seed: random.next(), ignoring: ignoring, tracing: tracing)
            } catch {
                report.recoveryFailures += 1
                report.findings.append("seed \(seed): cannot set up the layer: \(error)")
                break
            }
            // Now and then the cut comes during recovery itself (a segment rewrite, a
            // torn tail being cut, an empty segment removed): the next open must cope.
            let cutDuringRecovery = epoch > 0 && epoch < cuts && Int.random(in: 0..<4, using: &random) == 0
            if cutDuringRecovery { fileSystem.armCut(afterCalls: Int.random(in: 1...30, using: &random)) }
            var outbox: Outbox
            do {
                outbox = try await Self.open(outboxDirectory, fileSystem: fileSystem, logger: quiet)
                fileSystem.disarm()
                // A cut that landed in a call whose failure opening only reports (the
                // reserve file): the outbox opened, on a disk that is off.
                if fileSystem.isPoweredOff {
                    await outbox.close()
                    throw OutboxError(.io, "power cut while opening")
                }
            } catch where fileSystem.isPoweredOff {
                let cut = fileSystem.cutPower()
                report.count(cut, number: epoch + 1, seed: seed, duringRecovery: true)
                lastCut = cut
                if tracing { trace += fileSystem.trace + ["== cut during recovery: \(cut.summary)"] }
                continue
            } catch {
                report.recoveryFailures += 1
                report.findings.append("seed \(seed), after cut \(epoch): the outbox did not open: \(error)")
                break
            }
            if epoch > 0 {
                // Checked with the outbox closed: its maintenance would delete segments
                // under the inspector's feet. Closing changes nothing a check reads.
                await outbox.close()
                if !outbox.recovery.resetCursors.isEmpty {
                    report.damagedCursors += outbox.recovery.resetCursors.count
                    report.findings.append("seed \(seed), after cut \(epoch): damaged cursors \(outbox.recovery.resetCursors)")
                }
                let failuresBefore = report.failures
                check(outboxDirectory, ledger: ledger, into: &report, after: epoch, recovery: outbox.recovery, cut: lastCut)
                if tracing && report.failures > failuresBefore {
                    // Every disk call since the run began, for whoever explains the finding.
                    let text = (["trace of seed \(seed) up to cut \(epoch):"] + trace).joined(separator: "\n") + "\n"
                    FileHandle.standardError.write(Data(text.utf8))
                }
                if epoch == cuts { break }
                do {
                    outbox = try await Self.open(outboxDirectory, fileSystem: fileSystem, logger: quiet)
                } catch {
                    report.recoveryFailures += 1
                    report.findings.append("seed \(seed), after cut \(epoch): the outbox did not open again: \(error)")
                    break
                }
            }
            ledger.poweredOn()
            fileSystem.setFaults(faults)
            let deliveries = await work(on: outbox, ledger: ledger, random: &random, fileSystem: fileSystem)
            let cut = fileSystem.cutPower()
            lastCut = cut
            if tracing { trace += fileSystem.trace + ["== cut \(epoch + 1): \(cut.summary), before \(cut.landedBefore ?? "no call")"] }
            deliveries.cancel()
            await deliveries.value
            report.count(cut, number: epoch + 1, seed: seed, duringRecovery: false)
            let injected = fileSystem.faultCounts
            report.injected.syncFailures += injected.syncFailures
            report.injected.noSpace += injected.noSpace
            report.injected.shortWrites += injected.shortWrites
            await outbox.close()
        }
        let contents = ledger.snapshot()
        report.operations = contents.operations
        report.appendsAcknowledged = contents.acknowledged.count
        report.appendsAfterSyncFailure = contents.appendsAfterSyncFailure
        return report
    }

    /// Opens the outbox; a recovery that has not finished in 30 s counts as a loop.
    /// (A task group would wait for the stuck open: it races a timer instead.)
    static func open(_ directory: String, fileSystem: PowerCutFileSystem, logger: Logger) async throws -> Outbox {
        let answer = OpenAnswer()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Outbox, any Error>, Never>) in
            answer.continuation.withLock { $0 = continuation }
            Task {
                let opened: Result<Outbox, any Error>
                do {
                    opened = .success(try await Outbox.open(directory: directory, configuration: configuration, logger: logger, fileSystem: fileSystem))
                } catch {
                    opened = .failure(error)
                }
                answer.continuation.withLock { $0.take() }?.resume(returning: opened)
            }
            Task {
                try? await Task.sleep(for: .seconds(30))
                answer.continuation.withLock { $0.take() }?.resume(returning: .failure(OutboxError(.io, "recovery did not finish within 30 s")))
            }
        }
        return try result.get()
    }

    // MARK: - Work

    /// One power-on period: sinks deliver while operations run. At a random
    /// operation a cut is armed to land a random number of disk calls later,
    /// inside whatever the outbox is doing; appends go on until it has.
    /// Returns the sinks' task: cancel and await it after the cut.
    func work(on outbox: Outbox, ledger: RunLedger, random: inout SeededGenerator, fileSystem: PowerCutFileSystem) async -> Task<Void, Never> {
        let sinkSeed = random.next()
        let deliveries = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, sink) in Self.sinks.enumerated() {
                    group.addTask { await Self.deliver(sink, outbox: outbox, ledger: ledger, seed: sinkSeed &+ UInt64(index)) }
                }
            }
        }
        let count = Int.random(in: 1...operations, using: &random)
        let armAt = Int.random(in: 0..<count, using: &random)
        for index in 0..<(count + 200) {
            if fileSystem.isPoweredOff { break }
            if index == armAt { fileSystem.armCut(afterCalls: Int.random(in: 1...60, using: &random)) }
            ledger.count()
            if ledger.sawSyncFailure {
                // After a failed fdatasync nothing more may be accepted.
                await appendBurst(outbox, ledger: ledger, random: &random, writers: 1)
                break
            }
            if index >= count {
                await appendBurst(outbox, ledger: ledger, random: &random, writers: 2)
                continue
            }
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<55:
                await appendBurst(outbox, ledger: ledger, random: &random, writers: Int.random(in: 1...4, using: &random))
            case 55..<75:
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...6, using: &random)))
            case 75..<87:
                let sink = Self.sinks.randomElement(using: &random)!
                let last = outbox.lastSequence
                if last > 0 {
                    let target = UInt64.random(in: (last > 30 ? last - 30 : 1)...last, using: &random)
                    let started = ledger.tick()
                    fileSystem.mark("rewind \(sink) to \(target) at tick \(started)")
                    if (try? await outbox.rewind(sink, toSequence: target)) != nil {
                        // Records before the oldest kept are gone for everyone (all of them when
                        // none is kept); the rest come again.
                        let oldestKept = outbox.status().firstSequence ?? (outbox.lastSequence + 1)
                        fileSystem.mark("rewind \(sink) returned; oldest kept \(oldestKept)")
                        ledger.rewound(sink, from: max(target, oldestKept), at: started)
                    }
                }
            default:
                let sink = Self.sinks.randomElement(using: &random)!
                // Requeued records are new appends for that sink alone.
                if let sequences = try? await outbox.requeue(sink) { ledger.requeued(sequences, sink: sink) }
            }
        }
        return deliveries
    }

    /// `writers` tasks append 1–3 records each at once (one group commit or a few).
    func appendBurst(_ outbox: Outbox, ledger: RunLedger, random: inout SeededGenerator, writers: Int) async {
        var batches: [[OutboxEntry]] = []
        for _ in 0..<writers {
            batches.append((0..<Int.random(in: 1...3, using: &random)).map { _ in Self.entry(&random) })
        }
        let syncFailedBefore = ledger.sawSyncFailure
        await withTaskGroup(of: Void.self) { group in
            for entries in batches {
                group.addTask {
                    ledger.attempt(entries.map(\.payload))
                    do {
                        let sequences = try await outbox.append(entries)
                        ledger.acknowledge(sequences, entries)
                        if syncFailedBefore { ledger.acceptedAfterSyncFailure() }
                    } catch let error as OutboxError where error.code == .io && error.message.hasPrefix("fdatasync") {
                        ledger.syncFailed()
                    } catch {}
                }
            }
        }
    }

    /// A record with a payload no other has: its key, a counter, random filler.
    static func entry(_ random: inout SeededGenerator) -> OutboxEntry {
        let id = random.next()
        let filler = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0x61...0x7A, using: &random) }
        let payload = Array("{\"id\":\"\(id)\",\"filler\":\"".utf8) + filler + Array("\"}".utf8)
        return OutboxEntry(key: "k\(id % 5)", payload: payload)
    }

    /// A sink: delivers most records, retries some, dead-letters a few, until cancelled.
    static func deliver(_ sink: String, outbox: Outbox, ledger: RunLedger, seed: UInt64) async {
        var random = SeededGenerator(seed: seed)
        while !Task.isCancelled {
            guard let batch = try? await outbox.nextBatch(for: sink, limit: Int.random(in: 1...16, using: &random)), !batch.isEmpty else {
                return
            }
            for record in batch {
                switch Int.random(in: 0..<100, using: &random) {
                case 0..<86:
                    ledger.delivered(sink, record.sequence)
                    outbox.resolve(sink, record.sequence, .delivered)
                case 86..<94:
                    outbox.resolve(sink, record.sequence, .retry(DeliveryFailure(code: "test", message: "later", retryAfterMilliseconds: 2)))
                case 94..<97:
                    // Written later; the cursor may pass it only once it is on disk.
                    outbox.resolve(sink, record.sequence, .deadLetter(DeliveryFailure(code: "test", message: "never")))
                default:
                    do {
                        if try await outbox.deadLetter(sink, record.sequence, reason: "test: never") {
                            ledger.deadLettered(sink, record.sequence)
                        }
                    } catch {
                        outbox.resolve(sink, record.sequence, .retry(DeliveryFailure(code: "test", message: "dead letter failed")))
                    }
                }
            }
        }
    }
}

/// Whichever of the open and its timer comes first resumes the waiter.
private final class OpenAnswer: Sendable {
    let continuation = Mutex<CheckedContinuation<Result<Outbox, any Error>, Never>?>(nil)
}
