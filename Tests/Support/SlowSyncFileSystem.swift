import CIBridgeOutbox
import Foundation
import Synchronization

/// The real file system, with each `fdatasync` of a segment held for
/// ``delay`` while it is set: an append that stays in flight as long as a test
/// needs, for what must happen meanwhile (an answer kept back until then, a
/// graceful stop that waits for it).
public final class SlowSyncFileSystem: OutboxFileSystem {
    private let base = PosixFileSystem()
    private let delayState = Mutex<Duration>(.zero)

    public init() {}

    /// How long each segment sync is held now; zero: not at all.
    public var delay: Duration {
        get { delayState.withLock { $0 } }
        set { delayState.withLock { $0 = newValue } }
    }

    public func open(_ path: String, create: Bool, exclusive: Bool, readOnly: Bool) throws(OutboxError) -> any OutboxFile {
        let file = try base.open(path, create: create, exclusive: exclusive, readOnly: readOnly)
        return path.hasSuffix(".seg") ? SlowSyncFile(file, system: self) : file
    }

    public func syncDirectory(_ path: String) throws(OutboxError) { try base.syncDirectory(path) }
    public func rename(_ from: String, _ to: String) throws(OutboxError) { try base.rename(from, to) }
    public func remove(_ path: String) throws(OutboxError) { try base.remove(path) }
    public func makeDirectory(_ path: String) throws(OutboxError) -> Bool { try base.makeDirectory(path) }
    public func exists(_ path: String) -> Bool { base.exists(path) }
    public func list(_ path: String) throws(OutboxError) -> [String] { try base.list(path) }
    public func freeBytes(_ path: String) throws(OutboxError) -> Int64 { try base.freeBytes(path) }
}

/// A segment file whose `syncData` waits out its file system's delay first.
private final class SlowSyncFile: OutboxFile {
    let base: any OutboxFile
    let system: SlowSyncFileSystem

    init(_ base: any OutboxFile, system: SlowSyncFileSystem) {
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
        let delay = system.delay
        // On the outbox's own I/O queue, never the cooperative pool: a blocking wait is what it models.
        if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
        try base.syncData()
    }
}
