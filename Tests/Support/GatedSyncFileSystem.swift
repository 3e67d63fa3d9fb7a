import CIBridgeOutbox
import Foundation
import Synchronization

/// The real file system, whose segment `fdatasync`s wait while the gate is
/// closed: an append that stays in flight until a test lets it go, for what
/// must happen meanwhile (a graceful stop that waits for its answer).
public final class GatedSyncFileSystem: OutboxFileSystem {
    private let base = PosixFileSystem()
    private let closed = Mutex(false)

    public init() {}

    /// From now on, segment syncs wait.
    public func hold() { closed.withLock { $0 = true } }

    /// The waiting syncs go on, and later ones do not wait.
    public func release() { closed.withLock { $0 = false } }

    /// Called by a sync on the outbox's own I/O queue, never the cooperative
    /// pool: a blocking wait is what it models.
    fileprivate func waitWhileClosed() {
        while closed.withLock({ $0 }) { usleep(1_000) }
    }

    public func open(_ path: String, create: Bool, exclusive: Bool, readOnly: Bool) throws(OutboxError) -> any OutboxFile {
        let file = try base.open(path, create: create, exclusive: exclusive, readOnly: readOnly)
        return path.hasSuffix(".seg") ? GatedSyncFile(file, system: self) : file
    }

    public func syncDirectory(_ path: String) throws(OutboxError) { try base.syncDirectory(path) }
    public func rename(_ from: String, _ to: String) throws(OutboxError) { try base.rename(from, to) }
    public func remove(_ path: String) throws(OutboxError) { try base.remove(path) }
    public func makeDirectory(_ path: String) throws(OutboxError) -> Bool { try base.makeDirectory(path) }
    public func exists(_ path: String) -> Bool { base.exists(path) }
    public func list(_ path: String) throws(OutboxError) -> [String] { try base.list(path) }
    public func freeBytes(_ path: String) throws(OutboxError) -> Int64 { try base.freeBytes(path) }
}

/// A segment file whose `syncData` first waits for its file system's gate.
private final class GatedSyncFile: OutboxFile {
    let base: any OutboxFile
    let system: GatedSyncFileSystem

    init(_ base: any OutboxFile, system: GatedSyncFileSystem) {
        self.base = base
        self.system = system
    }

    var path: String { base.path }
    func writeSome(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) -> Int { try base.writeSome(bytes, at: offset) }
    func read(count: Int, at offset: Int64) throws(OutboxError) -> [UInt8] { try base.read(count: count, at: offset) }
    func truncate(to size: Int64) throws(OutboxError) { try base.truncate(to: size) }
    func size() throws(OutboxError) -> Int64 { try base.size() }
    func tryLockExclusive() throws(OutboxError) -> Bool { try base.tryLockExclusive() }
    func unlock() { base.unlock() }

    func syncData() throws(OutboxError) {
        system.waitWhileClosed()
        try base.syncData()
    }
}
