/// The one seam all outbox file I/O goes through: the outbox, its recovery,
/// its inspector and the quarantine of refused bodies call nothing else.
///
/// ``PosixFileSystem`` is the real one. Tests put a fault-injecting layer
/// here (`PowerCutFileSystem`) that keeps a model of what a disk would hold
/// after a power cut, so each `fsync` below can be shown to matter.
public protocol OutboxFileSystem: Sendable {
    /// Opens `path` for reading and writing (or only reading).
    /// `create` creates it when missing; `exclusive` fails when it exists.
    /// A file created here is readable by owner and group only (0640).
    func open(_ path: String, create: Bool, exclusive: Bool, readOnly: Bool) throws(OutboxError) -> any OutboxFile
    /// `fsync` on a directory: created, renamed and removed entries in it are durable.
    func syncDirectory(_ path: String) throws(OutboxError)
    /// `rename(2)`: atomic, replacing `to`.
    func rename(_ from: String, _ to: String) throws(OutboxError)
    /// `unlink(2)`; a missing file is not an error.
    func remove(_ path: String) throws(OutboxError)
    /// `mkdir(2)` with mode 0750; `true` when it created the directory,
    /// `false` when it existed.
    @discardableResult
    func makeDirectory(_ path: String) throws(OutboxError) -> Bool
    /// Whether `path` exists.
    func exists(_ path: String) -> Bool
    /// Names in directory `path`, unsorted, without `.` and `..`.
    func list(_ path: String) throws(OutboxError) -> [String]
    /// Bytes available to unprivileged users on the filesystem holding `path`.
    func freeBytes(_ path: String) throws(OutboxError) -> Int64
}

extension OutboxFileSystem {
    /// Opens an existing file for reading and writing.
    public func open(_ path: String) throws(OutboxError) -> any OutboxFile {
        try open(path, create: false, exclusive: false, readOnly: false)
    }

    /// Opens `path`, creating it when `create` is set.
    public func open(_ path: String, create: Bool = false, readOnly: Bool = false) throws(OutboxError) -> any OutboxFile {
        try open(path, create: create, exclusive: false, readOnly: readOnly)
    }

    /// Writes `bytes` to `path` crash-atomically: a temporary file, `fdatasync`,
    /// `rename` over `path`, then `fsync` of the directory.
    public func replaceAtomically(_ path: String, with bytes: [UInt8], directory: String) throws(OutboxError) {
        let temporary = path + ".tmp"
        let file = try open(temporary, create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.syncData()
        try rename(temporary, path)
        try syncDirectory(directory)
    }

    /// Creates directory `path` if it is missing, and makes its entry durable:
    /// `fsync` of its parent. Also when it existed already: an earlier process
    /// may have crashed between its `mkdir` and that `fsync`.
    /// Returns whether it created the directory.
    @discardableResult
    public func makeDurableDirectory(_ path: String) throws(OutboxError) -> Bool {
        let created = try makeDirectory(path)
        try syncDirectory(OutboxPaths.parent(of: path))
        return created
    }
}
