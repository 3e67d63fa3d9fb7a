#if canImport(Glibc)
import Glibc
#endif
import CIBridgeOutbox

/// A file opened through ``PowerCutFileSystem``: the real file, with every
/// change recorded in the layer's model, and faults injected per its plan.
final class PowerCutFile: OutboxFile {
    let real: any OutboxFile
    let system: PowerCutFileSystem
    /// Which file this is in the model: fixed at open, whatever names it has later
    /// (a handle writes to its file after a rename, not to the new owner of its name).
    let id: Int
    var path: String { real.path }

    init(real: any OutboxFile, system: PowerCutFileSystem, identity: Int) {
        self.real = real
        self.system = system
        self.id = identity
    }

    func writeSome(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) -> Int {
        try system.state.withLock { s throws(OutboxError) in
            try s.beforeChange("pwrite", path)
            var count = bytes.count
            var failure: OutboxError?
            if count > 0 && Double.random(in: 0..<1, using: &s.random) < s.faults.noSpace {
                count = Int.random(in: 0..<count, using: &s.random)
                failure = OutboxError.system("pwrite", path, code: ENOSPC)
                s.counts.noSpace += 1
            } else if count > 1 && Double.random(in: 0..<1, using: &s.random) < s.faults.shortWrite {
                count = Int.random(in: 1..<count, using: &s.random)
                s.counts.shortWrites += 1
            }
            s.note("\(count) of \(bytes.count) bytes at \(offset)\(failure == nil ? "" : ", then ENOSPC")")
            s.model.load(id, from: real)
            let part = UnsafeRawBufferPointer(rebasing: bytes[..<count])
            let written = count > 0 ? try real.writeSome(part, at: offset) : 0
            s.model.record(.write(offset: offset, bytes: Array(part[..<written])), on: id)
            if let failure { throw failure }
            return written
        }
    }

    func read(count: Int, at offset: Int64) throws(OutboxError) -> [UInt8] {
        try system.state.withLock { s throws(OutboxError) in
            try s.checkPower("pread", path)
            return try real.read(count: count, at: offset)
        }
    }

    func syncData() throws(OutboxError) {
        try system.state.withLock { s throws(OutboxError) in
            try s.beforeChange("fdatasync", path)
            let site = SyncSite.of(path, isDirectory: false, root: system.root)
            if site == .segmentData && Double.random(in: 0..<1, using: &s.random) < s.faults.syncFailure {
                // Linux marks pages whose writeback failed clean: what they held never
                // reaches the disk, and no later sync saves it ("fsyncgate").
                s.counts.syncFailures += 1
                s.note("EIO")
                s.model.lostWriteback(id)
                throw OutboxError.system("fdatasync", path, code: EIO)
            }
            guard s.ignored != site else { return }
            s.model.synced(id)
        }
    }

    func truncate(to size: Int64) throws(OutboxError) {
        try system.state.withLock { s throws(OutboxError) in
            try s.beforeChange("ftruncate", path)
            s.model.load(id, from: real)
            s.note("to \(size) bytes")
            try real.truncate(to: size)
            s.model.record(.truncate(size), on: id)
        }
    }

    func size() throws(OutboxError) -> Int64 {
        try system.state.withLock { s throws(OutboxError) in
            try s.checkPower("fstat", path)
            return try real.size()
        }
    }

    func tryLockExclusive() throws(OutboxError) -> Bool {
        try system.state.withLock { s throws(OutboxError) in
            try s.checkPower("flock", path)
            let locked = try real.tryLockExclusive()
            if locked { s.locked.append(real) }
            return locked
        }
    }

    func unlock() {
        system.state.withLock { s in
            if !s.poweredOff { real.unlock() }
        }
    }
}
