import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, in a temporary directory,
/// for integration tests. Stopped (and its directory removed) by `stop()`.
public final class RedisServer {
    public let port: Int
    public let directory: String
    private var process: Process?
    private let extraArguments: [String]

    /// Starts a server; `arguments` are extra `redis-server` options (`--requirepass x`).
    public init(_ arguments: [String] = []) throws {
        port = Self.freePort()
        directory = NSTemporaryDirectory() + "cibridge-redis-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        extraArguments = arguments
        try start()
    }

    /// Starts (again) on the same port and directory.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--daemonize", "no",
            "--logfile", directory + "/redis.log",
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            usleep(20_000)
        }
        throw NSError(domain: "RedisServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "redis-server did not start on \(port)"])
    }

    /// SIGKILL: no shutdown, no final save.
    public func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    public func stop() {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `redis-cli` against the server and returns its output.
    @discardableResult
    public func cli(_ arguments: [String], password: String? = nil) throws -> String {
        try Self.cli(port: port, arguments, password: password)
    }

    /// `redis-cli` against the server on `port`.
    @discardableResult
    public static func cli(port: Int, _ arguments: [String], password: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = ["-p", String(port)] + (password.map { ["-a", $0, "--no-auth-warning"] } ?? []) + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
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
