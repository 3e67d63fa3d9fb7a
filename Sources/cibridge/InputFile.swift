#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file (or standard input) with an upper bound, so a huge input
/// is refused after reading one byte past the limit instead of filling memory.
struct InputFile {
    /// The name used in messages: the path, or `<stdin>`.
    let name: String
    private let path: String?

    /// A file at `path`, or standard input when `path` is `nil` or `-`.
    init(path: String?) {
        if let path, path != "-" {
            self.name = path
            self.path = path
        } else {
            self.name = "<stdin>"
            self.path = nil
        }
    }

    enum ReadError: Error {
        case cannotOpen(String)
        case tooLarge(limit: Int)
        case readFailed(String)
    }

    /// The bytes; throws ``ReadError/tooLarge(limit:)`` when there are more than `limit`.
    func read(limit: Int) throws(ReadError) -> [UInt8] {
        let fd: Int32
        if let path {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(String(cString: strerror(errno))) }
        } else {
            fd = STDIN_FILENO
        }
        defer { if path != nil { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .readFailed(String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw .tooLarge(limit: limit) }
        }
    }
}
