#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one open file descriptor; closes it in `deinit`.
///
/// Every system call is wrapped: a failure becomes an ``OutboxError`` with code
/// `io_error` naming the call, the path and `strerror(errno)`.
final class SystemFile: Sendable {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    /// Opens `path` for reading and writing, creating it when `create` is set.
    static func open(_ path: String, create: Bool = false, readOnly: Bool = false) throws(OutboxError) -> SystemFile {
        var flags = O_CLOEXEC | (readOnly ? O_RDONLY : O_RDWR)
        if create { flags |= O_CREAT }
        let fd = Glibc.open(path, flags, 0o640)
        guard fd >= 0 else { throw Self.error("open", path) }
        return SystemFile(descriptor: fd, path: path)
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) {
        var done = 0
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.error("pwrite", path)
            }
            done += written
        }
    }

    func write(_ bytes: [UInt8], at offset: Int64) throws(OutboxError) {
        let result: Result<Void, OutboxError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(OutboxError) in try write(buffer, at: offset) }
        }
        try result.get()
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(count: Int, at offset: Int64) throws(OutboxError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Self.error("pread", path)
            }
            if got == 0 { break }
            done += got
        }
        if done < count { buffer.removeSubrange(done...) }
        return buffer
    }

    /// The whole file.
    func readAll() throws(OutboxError) -> [UInt8] {
        try read(count: Int(try size()), at: 0)
    }

    /// `fdatasync`: the file's data is on disk.
    func syncData() throws(OutboxError) {
        guard fdatasync(descriptor) == 0 else { throw Self.error("fdatasync", path) }
    }

    func truncate(to size: Int64) throws(OutboxError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw Self.error("ftruncate", path) }
    }

    func size() throws(OutboxError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.error("fstat", path) }
        return Int64(info.st_size)
    }

    /// Takes an exclusive `flock` without waiting; `false` when another process holds it.
    func tryLockExclusive() throws(OutboxError) -> Bool {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw Self.error("flock", path)
    }

    /// Releases a lock taken with ``tryLockExclusive()``.
    func unlock() {
        _ = flock(descriptor, LOCK_UN)
    }

    // MARK: - Paths

    /// `fsync` on a directory, so created, renamed and removed entries are durable.
    static func syncDirectory(_ path: String) throws(OutboxError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw error("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw error("fsync", path) }
    }

    static func rename(_ from: String, _ to: String) throws(OutboxError) {
        guard Glibc.rename(from, to) == 0 else { throw error("rename", from) }
    }

    static func remove(_ path: String) throws(OutboxError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw error("unlink", path) }
    }

    static func makeDirectory(_ path: String) throws(OutboxError) {
        guard mkdir(path, 0o750) == 0 || errno == EEXIST else { throw error("mkdir", path) }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Names in directory `path`, unsorted, without `.` and `..`.
    static func list(_ path: String) throws(OutboxError) -> [String] {
        guard let dir = opendir(path) else { throw error("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Bytes available to unprivileged users on the filesystem holding `path`.
    static func freeBytes(_ path: String) throws(OutboxError) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw error("statvfs", path) }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Writes `bytes` to `path` crash-atomically: a temporary file, `fdatasync`,
    /// `rename` over `path`, then `fsync` of the directory.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], directory: String) throws(OutboxError) {
        let temporary = path + ".tmp"
        let file = try SystemFile.open(temporary, create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.syncData()
        try rename(temporary, path)
        try syncDirectory(directory)
    }

    static func error(_ call: String, _ path: String) -> OutboxError {
        let code = errno
        let reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            return OutboxError(.diskLow, "\(call) \(path): \(reason)")
        }
        return OutboxError(.io, "\(call) \(path): \(reason)")
    }
}
