#if canImport(Glibc)
import Glibc
#endif
import CIBridgeOutbox
import Synchronization

/// A fault-injecting file system for the outbox: real files, plus a model of
/// what the disk would hold if the power went now (``DiskModel``).
///
/// ``cutPower()`` turns the real files into one such post-crash state and
/// "switches the machine off": every later call on this layer or its files
/// fails with EIO, so the outbox that was running can do no more harm, and
/// its `flock` is released. Open a new layer (and a new outbox) on the same
/// directory to power on again: everything on disk then counts as synced.
///
/// It can also fail calls as a real disk does (``FaultPlan``), and ignore the
/// syncs of one ``SyncSite`` to show that they matter. Syncs are only
/// recorded in the model, not made: a simulated disk needs no real `fsync`.
///
/// Every call, and the cut, runs under one lock: the cut sees no call half done.
public final class PowerCutFileSystem: OutboxFileSystem {
    /// The outbox directory (for naming sync sites).
    public let root: String
    /// Where removed and replaced files are kept until the removal is durable.
    /// On the same filesystem as `root`, outside it.
    public let backups: String
    let real = PosixFileSystem()
    let state: Mutex<State>

    struct State: ~Copyable {
        var model: DiskModel
        var random: SeededGenerator
        var faults: FaultPlan
        var ignored: SyncSite?
        var poweredOff = false
        /// Files holding a `flock`, released by a cut.
        var locked: [any OutboxFile] = []
        var counts = FaultCounts()

        /// Calls that change the disk until an armed cut (``armCut(afterCalls:)``).
        var countdown: Int?
        var lastCut: CutReport?
        /// Called, under the lock, right after an armed cut.
        var onCut: (@Sendable (CutReport) -> Void)?

        /// Fails `call` with EIO once the power is off.
        func checkPower(_ call: String, _ path: String) throws(OutboxError) {
            if poweredOff { throw OutboxError.system(call, path, code: EIO) }
        }

        /// Every call that changes the disk, with what it did, when tracing.
        var trace: [String]?

        /// Adds to the last traced call what it did.
        mutating func note(_ outcome: String) {
            if trace != nil { trace!.append("    " + outcome) }
        }

        /// Before a call that changes the disk: fails it with EIO once the power
        /// is off, or cuts the power first when an armed cut is due.
        mutating func beforeChange(_ call: String, _ path: String) throws(OutboxError) {
            if trace != nil {
                let name = path.hasPrefix(model.root + "/") ? String(path.dropFirst(model.root.count + 1)) : path
                trace!.append("\(call) \(name)\(poweredOff ? " (power off)" : "")")
            }
            if let remaining = countdown {
                if remaining <= 1 {
                    cut(strict: false)
                    let site = SyncSite.of(path, isDirectory: call == "fsync" || call == "mkdir", root: model.root)
                    lastCut?.landedBefore = "\(call) (\(site))"
                    if let onCut, let lastCut { onCut(lastCut) }
                } else {
                    countdown = remaining - 1
                }
            }
            try checkPower(call, path)
        }

        @discardableResult
        mutating func cut(strict: Bool) -> CutReport {
            poweredOff = true
            countdown = nil
            for file in locked { file.unlock() }
            locked = []
            let report = model.cut(strict: strict, using: &random)
            DiskModel.removeTree(model.backups)
            lastCut = report
            return report
        }
    }

    /// Injected errors so far.
    public struct FaultCounts: Sendable, Hashable {
        public var syncFailures = 0
        public var noSpace = 0
        public var shortWrites = 0
        public var total: Int { syncFailures + noSpace + shortWrites }
    }

    /// A layer over the outbox at `root`, its backups in `backups` (created, emptied).
    /// `tracing` keeps every call that changes the disk (``trace``), to explain a finding.
    public init(
        root: String, backups: String, seed: UInt64, faults: FaultPlan = .none, ignoring ignored: SyncSite? = nil, tracing: Bool = false
    ) throws(OutboxError) {
        self.root = root
        self.backups = backups
        DiskModel.removeTree(backups)
        try real.makeDirectory(backups)
        state = Mutex(State(model: DiskModel(root: root, backups: backups), random: SeededGenerator(seed: seed), faults: faults, ignored: ignored, trace: tracing ? [] : nil))
    }

    /// Turns injected errors on or off (off while an outbox recovers: a start
    /// that fails on an injected error proves nothing).
    public func setFaults(_ faults: FaultPlan) {
        state.withLock { $0.faults = faults }
    }

    /// Ignores the syncs of `site` from now on (`nil`: none).
    public func ignore(_ site: SyncSite?) {
        state.withLock { $0.ignored = site }
    }

    /// The calls that changed the disk, in order, when made with `tracing`.
    public var trace: [String] { state.withLock { $0.trace ?? [] } }
    public var faultCounts: FaultCounts { state.withLock { $0.counts } }

    /// Cuts the power: the files become one post-crash state (with `strict`,
    /// the one where nothing unsynced survives); the layer is dead.
    @discardableResult
    public func cutPower(strict: Bool = false) -> CutReport {
        state.withLock { s in s.poweredOff ? (s.lastCut ?? CutReport()) : s.cut(strict: strict) }
    }

    /// Cuts the power just before the `calls`-th call from now that changes
    /// the disk (write, truncate, sync, create, rename, remove, mkdir): a cut
    /// that lands inside whatever the outbox is doing then.
    /// `then` runs right after that cut, still under the layer's lock, so no
    /// other call gets in between (a process can end itself there).
    public func armCut(afterCalls calls: Int, then: (@Sendable (CutReport) -> Void)? = nil) {
        state.withLock { s in
            s.countdown = max(1, calls)
            s.onCut = then
        }
    }

    /// Adds `line` to the trace (what the caller did, between the disk calls).
    public func mark(_ line: String) {
        state.withLock { s in if s.trace != nil { s.trace!.append("-- " + line) } }
    }

    /// Cancels an armed cut that has not landed.
    public func disarm() {
        state.withLock { s in
            s.countdown = nil
            s.onCut = nil
        }
    }

    /// Whether the power is off (a cut happened).
    public var isPoweredOff: Bool { state.withLock { $0.poweredOff } }


    // MARK: - OutboxFileSystem

    public func open(_ path: String, create: Bool, exclusive: Bool, readOnly: Bool) throws(OutboxError) -> any OutboxFile {
        try state.withLock { s throws(OutboxError) in
            try s.beforeChange("open", path)
            let existed = real.exists(path)
            let file = try real.open(path, create: create, exclusive: exclusive, readOnly: readOnly)
            if !existed { s.model.created(path) }
            return PowerCutFile(real: file, system: self, identity: s.model.identity(of: path))
        }
    }

    public func syncDirectory(_ path: String) throws(OutboxError) {
        try state.withLock { s throws(OutboxError) in
            try s.beforeChange("fsync", path)
            guard s.ignored != SyncSite.of(path, isDirectory: true, root: root) else { return }
            s.model.syncedDirectory(path)
        }
    }

    public func rename(_ from: String, _ to: String) throws(OutboxError) {
        try state.withLock { s throws(OutboxError) in
            try s.beforeChange("rename", from)
            var backup: String?
            if real.exists(to) {
                backup = s.model.takeBackupPath()
                guard link(to, backup!) == 0 else { throw OutboxError.system("link", to) }
            }
            try real.rename(from, to)
            let moving = s.model.identity(of: from)
            if let backup { s.model.identities[backup] = s.model.identities[to] }
            s.model.identities[to] = moving
            s.model.identities[from] = nil
            s.model.entries.append(
                DiskModel.PendingEntry(
                    change: .renamed(from: from, to: to, replacedBackup: backup),
                    directories: [DiskModel.parent(from), DiskModel.parent(to)]))
        }
    }

    public func remove(_ path: String) throws(OutboxError) {
        try state.withLock { s throws(OutboxError) in
            try s.beforeChange("unlink", path)
            guard real.exists(path) else { return }
            let backup = s.model.takeBackupPath()
            guard link(path, backup) == 0 else { throw OutboxError.system("link", path) }
            try real.remove(path)
            s.model.identities[backup] = s.model.identities[path]
            s.model.identities[path] = nil
            s.model.entries.append(DiskModel.PendingEntry(change: .removed(path, backup: backup), directories: [DiskModel.parent(path)]))
        }
    }

    @discardableResult
    public func makeDirectory(_ path: String) throws(OutboxError) -> Bool {
        try state.withLock { s throws(OutboxError) in
            try s.beforeChange("mkdir", path)
            let created = try real.makeDirectory(path)
            if created { s.model.madeDirectory(path) }
            return created
        }
    }

    public func exists(_ path: String) -> Bool {
        state.withLock { s in !s.poweredOff && real.exists(path) }
    }

    public func list(_ path: String) throws(OutboxError) -> [String] {
        try state.withLock { s throws(OutboxError) in
            try s.checkPower("opendir", path)
            return try real.list(path)
        }
    }

    public func freeBytes(_ path: String) throws(OutboxError) -> Int64 {
        try state.withLock { s throws(OutboxError) in
            try s.checkPower("statvfs", path)
            return try real.freeBytes(path)
        }
    }
}
