import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, in a temporary directory,
/// for integration tests. Stopped (and its directory removed) by `stop()`,
/// or when the last reference to it goes away.
public final class RedisServer {
    public let port: Int
    private let temporary: TemporaryDirectory
    private var child: ChildProcess?
    private let extraArguments: [String]

    /// The server's working directory (its log, and its dump files if a test enables them).
    public var directory: String { temporary.path }

    /// Starts a server; `arguments` are extra `redis-server` options (`--requirepass x`).
    public init(_ arguments: [String] = []) throws {
        port = Self.freePort()
        temporary = try TemporaryDirectory("redis")
        extraArguments = arguments
        try start()
    }

    deinit {
        stop()
    }

    /// Starts (again) on the same port and directory.
    public func start() throws {
        child = try ChildProcess(
            "/usr/bin/redis-server",
            [
                "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--daemonize", "no",
                "--logfile", directory + "/redis.log",
            ] + extraArguments)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            usleep(20_000)
        }
        throw NSError(domain: "RedisServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "redis-server did not start on \(port)"])
    }

    /// SIGSTOP: the server stops reading and answering (a replica falls behind), until ``resume()``.
    public func pause() { child?.signal(SIGSTOP) }

    /// SIGCONT after ``pause()``.
    public func resume() { child?.signal(SIGCONT) }

    /// SIGKILL: no shutdown, no final save.
    public func kill() {
        child?.kill()
        child = nil
    }

    public func stop() {
        kill()
        temporary.remove()
    }

    /// Runs `redis-cli` against the server and returns its output.
    @discardableResult
    public func cli(_ arguments: [String], password: String? = nil) throws -> String {
        try Self.cli(port: port, arguments, password: password)
    }

    /// `redis-cli` against the server on `port`.
    @discardableResult
    public static func cli(port: Int, _ arguments: [String], password: String? = nil) throws -> String {
        let arguments = ["-p", String(port)] + (password.map { ["-a", $0, "--no-auth-warning"] } ?? []) + arguments
        return try ChildProcess.run("/usr/bin/redis-cli", arguments).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
