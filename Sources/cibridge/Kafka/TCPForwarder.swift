import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Listens on 127.0.0.1:`port` and forwards each connection to `target`
/// (`host:port`): lets `cibridge dev-kafka --port` offer a fixed bootstrap
/// address in front of the mock cluster's random ports. Development only.
final class TCPForwarder: Sendable {
    let port: UInt16
    private let listener: Int32

    init(port: UInt16, target: String) throws {
        let parts = target.split(separator: ":")
        guard parts.count == 2, let targetPort = UInt16(parts[1]) else { throw ValidationFailure("bad target \(target)") }
        let targetHost = String(parts[0])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationFailure("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ValidationFailure("cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        self.port = port
        self.listener = fd
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { continue }
                let upstream = Self.connect(host: targetHost, port: targetPort)
                guard upstream >= 0 else {
                    close(client)
                    continue
                }
                Self.pump(from: client, to: upstream)
                Self.pump(from: upstream, to: client)
            }
        }
        thread.start()
    }

    private static func connect(host: String, port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// Copies bytes from one socket to the other until either side closes.
    private static func pump(from source: Int32, to destination: Int32) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                var sent = 0
                while sent < count {
                    let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + sent, count - sent) }
                    if written <= 0 { break }
                    sent += written
                }
                if sent < count { break }
            }
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
        }
        thread.start()
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
