import CIBridgeOutbox
import Synchronization

/// What a power-cut run's operations were told, shared by its tasks: the
/// truth that the files after a cut are checked against.
final class RunLedger: Sendable {
    struct Appended {
        /// `nil` for a requeued dead letter (one of the attempted payloads).
        let payload: [UInt8]?
        /// Empty: every sink.
        let routing: [String]
    }

    struct Contents {
        /// Every append that returned, by sequence.
        var acknowledged: [UInt64: Appended] = [:]
        /// The payload of every append tried, returned or not.
        var attempted: Set<[UInt8]> = []
        /// Per sink, the sequences it delivered (told the outbox so), with when it
        /// last did (a tick of ``clock``).
        var delivered: [String: [UInt64: Int]] = [:]
        /// Per sink, the rewinds that returned, oldest first: from which sequence
        /// (clamped to the oldest record kept), and when.
        var rewinds: [String: [(from: UInt64, tick: Int)]] = [:]
        var clock = 0
        /// Per sink, the dead letters whose write returned.
        var deadLettered: [String: Set<UInt64>] = [:]
        var operations = 0
        var appendsAfterSyncFailure = 0
        var sawSyncFailure = false
    }

    let contents = Mutex(Contents())

    func attempt(_ payloads: [[UInt8]]) {
        contents.withLock { c in for payload in payloads { c.attempted.insert(payload) } }
    }

    func acknowledge(_ sequences: [UInt64], _ entries: [OutboxEntry]) {
        contents.withLock { c in
            for (sequence, entry) in zip(sequences, entries) {
                c.acknowledged[sequence] = Appended(payload: entry.payload, routing: entry.routing)
            }
        }
    }

    func requeued(_ sequences: [UInt64], sink: String) {
        contents.withLock { c in
            for sequence in sequences { c.acknowledged[sequence] = Appended(payload: nil, routing: [sink]) }
        }
    }

    func delivered(_ sink: String, _ sequence: UInt64) {
        contents.withLock { c in
            c.clock += 1
            c.delivered[sink, default: [:]][sequence] = c.clock
        }
    }

    /// Now, on the ledger's clock.
    func tick() -> Int {
        contents.withLock { c in
            c.clock += 1
            return c.clock
        }
    }

    /// A rewind of `sink` that started at `tick` returned: every record from
    /// `from` on that is still kept must be delivered again (or be above the
    /// cursor). Its start counts, not its return: the sink may deliver again
    /// before the rewind's cursor is written.
    func rewound(_ sink: String, from: UInt64, at tick: Int) {
        contents.withLock { c in c.rewinds[sink, default: []].append((from, tick)) }
    }

    func deadLettered(_ sink: String, _ sequence: UInt64) {
        contents.withLock { c in _ = c.deadLettered[sink, default: []].insert(sequence) }
    }

    func count() {
        contents.withLock { $0.operations += 1 }
    }

    func syncFailed() {
        contents.withLock { $0.sawSyncFailure = true }
    }

    var sawSyncFailure: Bool { contents.withLock { $0.sawSyncFailure } }

    func acceptedAfterSyncFailure() {
        contents.withLock { $0.appendsAfterSyncFailure += 1 }
    }

    /// Starts a new power-on period.
    func poweredOn() {
        contents.withLock { $0.sawSyncFailure = false }
    }

    func snapshot() -> Contents { contents.withLock { $0 } }
}

extension RunLedger.Contents {
    /// Whether `sink` delivered `sequence` since the last rewind that covers it
    /// (ever, when none does).
    func hasDelivered(_ sequence: UInt64, to sink: String) -> Bool {
        guard let tick = delivered[sink]?[sequence] else { return false }
        let rewind = rewinds[sink]?.last { $0.from <= sequence }
        return tick > (rewind?.tick ?? 0)
    }
}
