#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system: each call is the system call it names.
public struct PosixFileSystem: OutboxFileSystem {
    public init() {}

    public func open(_ path: String, create: Bool, exclusive: Bool, readOnly: Bool) throws(OutboxError) -> any OutboxFile {
        var flags = O_CLOEXEC | (readOnly ? O_RDONLY : O_RDWR)
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = Glibc.open(path, flags, 0o640)
        guard fd >= 0 else { throw OutboxError.system("open", path) }
        // Exactly 0640 whatever the umask: outbox files and refused bodies are
        // as private as each other.
        if create && !readOnly && fchmod(fd, 0o640) != 0 {
            let error = OutboxError.system("fchmod", path)
            close(fd)
            throw error
        }
        return PosixFile(descriptor: fd, path: path)
    }

    public func syncDirectory(_ path: String) throws(OutboxError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw OutboxError.system("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw OutboxError.system("fsync", path) }
    }

    public func rename(_ from: String, _ to: String) throws(OutboxError) {
        guard Glibc.rename(from, to) == 0 else { throw OutboxError.system("rename", from) }
    }

    public func remove(_ path: String) throws(OutboxError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw OutboxError.system("unlink", path) }
    }

    @discardableResult
    public func makeDirectory(_ path: String) throws(OutboxError) -> Bool {
        if mkdir(path, 0o750) == 0 { return true }
        guard errno == EEXIST else { throw OutboxError.system("mkdir", path) }
        return false
    }

    public func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public func list(_ path: String) throws(OutboxError) -> [String] {
        guard let dir = opendir(path) else { throw OutboxError.system("opendir", path) }
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

    public func freeBytes(_ path: String) throws(OutboxError) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw OutboxError.system("statvfs", path) }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
