/// One open file of an outbox: the calls the outbox makes on a file, and
/// nothing else. ``PosixFile`` is the real one; a test double can stand in
/// for it (``OutboxFileSystem``) to inject faults and power cuts.
///
/// Every failure is an ``OutboxError`` naming the call, the path and the
/// system's reason (`io_error`, or `disk_low` for ENOSPC and EDQUOT).
public protocol OutboxFile: AnyObject, Sendable {
    /// The path the file was opened with.
    var path: String { get }
    /// One `pwrite`: writes some of `bytes` at `offset` and returns how many.
    /// A short count is not an error; ``write(_:at:)`` loops over it.
    func writeSome(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) -> Int
    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(count: Int, at offset: Int64) throws(OutboxError) -> [UInt8]
    /// `fdatasync`: the file's data (and its size) are on disk.
    func syncData() throws(OutboxError)
    /// `ftruncate`.
    func truncate(to size: Int64) throws(OutboxError)
    /// The file's size (`fstat`).
    func size() throws(OutboxError) -> Int64
    /// Takes an exclusive `flock` without waiting; `false` when another process holds it.
    func tryLockExclusive() throws(OutboxError) -> Bool
    /// Releases a lock taken with ``tryLockExclusive()``.
    func unlock()
}

extension OutboxFile {
    /// Writes all of `bytes` at `offset`, however many calls it takes.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) {
        var done = 0
        while done < bytes.count {
            let written = try writeSome(UnsafeRawBufferPointer(rebasing: bytes[done...]), at: offset + Int64(done))
            if written <= 0 { throw OutboxError(.io, "pwrite \(path): no progress") }
            done += written
        }
    }

    /// Writes all of `bytes` at `offset`.
    public func write(_ bytes: [UInt8], at offset: Int64) throws(OutboxError) {
        let result: Result<Void, OutboxError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(OutboxError) in try write(buffer, at: offset) }
        }
        try result.get()
    }

    /// The whole file.
    public func readAll() throws(OutboxError) -> [UInt8] {
        try read(count: Int(try size()), at: 0)
    }
}
