#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one open file descriptor; closes it in `deinit`.
///
/// Every system call is wrapped: a failure becomes an ``OutboxError`` with code
/// `io_error` (or `disk_low`) naming the call, the path and `strerror(errno)`.
public final class PosixFile: OutboxFile {
    let descriptor: Int32
    public let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    public func writeSome(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(OutboxError) -> Int {
        while true {
            let written = pwrite(descriptor, bytes.baseAddress!, bytes.count, off_t(offset))
            if written >= 0 { return written }
            if errno != EINTR { throw OutboxError.system("pwrite", path) }
        }
    }

    public func read(count: Int, at offset: Int64) throws(OutboxError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw OutboxError.system("pread", path)
            }
            if got == 0 { break }
            done += got
        }
        if done < count { buffer.removeSubrange(done...) }
        return buffer
    }

    public func syncData() throws(OutboxError) {
        guard fdatasync(descriptor) == 0 else { throw OutboxError.system("fdatasync", path) }
    }

    public func truncate(to size: Int64) throws(OutboxError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw OutboxError.system("ftruncate", path) }
    }

    public func size() throws(OutboxError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw OutboxError.system("fstat", path) }
        return Int64(info.st_size)
    }

    public func tryLockExclusive() throws(OutboxError) -> Bool {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw OutboxError.system("flock", path)
    }

    public func unlock() {
        _ = flock(descriptor, LOCK_UN)
    }
}

extension OutboxError {
    /// The error for system call `call` on `path` that failed with `code`
    /// (`errno` by default): `disk_low` for ENOSPC and EDQUOT, else `io_error`.
    public static func system(_ call: String, _ path: String, code: Int32 = errno) -> OutboxError {
        let reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            return OutboxError(.diskLow, "\(call) \(path): \(reason)")
        }
        return OutboxError(.io, "\(call) \(path): \(reason)")
    }
}
