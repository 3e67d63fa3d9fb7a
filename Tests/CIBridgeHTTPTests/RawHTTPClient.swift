import Foundation

/// HTTP/1 over a plain socket, for what Hummingbird's test client cannot do
/// (it sends one whole request at a time): a body trickled a byte at a time,
/// never finishing, for the 408 of ``RequestDeadline``; and requests
/// pipelined in one write or spaced out on one connection, for
/// ``CallbackChannelHandler``'s order and keep-alive.
struct RawHTTPClient {
    /// Connects to `localhost:port` (whichever address it resolves to that answers),
    /// sends `head`, then one byte every `interval` until an answer comes or
    /// `patience` runs out; returns what was answered.
    ///
    /// On a thread of its own, waiting in `poll`: a task sleeping between bytes
    /// on the cooperative pool could be held up for seconds under the full
    /// suite, and meanwhile the server's lingering close ends; a byte sent after
    /// that draws a reset, which throws away the unread 408.
    static func answer(port: Int, head: String, interval: Duration, patience: Duration) async throws -> String {
        let fd = try connect(port: port)
        try send(fd, Array(head.utf8))
        let milliseconds = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                defer { close(fd) }
                continuation.resume(returning: trickle(fd, everyMilliseconds: milliseconds, until: ContinuousClock.now + patience))
            }
        }
    }

    /// Connects to `localhost:port`, sends each of `writes` after its pause,
    /// then reads until the server closes the connection (the last request
    /// should say `Connection: close`) or `patience` runs out; returns all
    /// that was answered. On a thread of its own, like ``answer(port:head:interval:patience:)``.
    static func exchange(port: Int, writes: [(pause: Duration, text: String)], patience: Duration) async throws -> String {
        let fd = try connect(port: port)
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                defer { close(fd) }
                for (pause, text) in writes {
                    Thread.sleep(forTimeInterval: Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18)
                    if (try? send(fd, Array(text.utf8))) == nil { break }
                }
                continuation.resume(returning: readToEnd(fd, until: ContinuousClock.now + patience))
            }
        }
    }

    private static func readToEnd(_ fd: Int32, until deadline: ContinuousClock.Instant) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 50) == 0 { continue }
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += buffer[..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                break
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    private static func trickle(_ fd: Int32, everyMilliseconds interval: Int32, until deadline: ContinuousClock.Instant) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, interval) == 0 {
                // Nothing to read: the body keeps coming, so the connection is never idle, only slow.
                _ = Glibc.send(fd, "x", 1, Int32(MSG_NOSIGNAL))
                continue
            }
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += buffer[..<count]
                if String(decoding: received, as: UTF8.self).contains("}") { break }
                continue
            }
            // End of file, or the connection reset after the answer: what came is the answer.
            if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    struct SocketError: Error, CustomStringConvertible {
        let description: String
    }

    private static func connect(port: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo("localhost", String(port), &hints, &list) == 0, let first = list else {
            throw SocketError(description: "cannot resolve localhost")
        }
        defer { freeaddrinfo(first) }
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
                close(fd)
            }
            next = info.pointee.ai_next
        }
        throw SocketError(description: "cannot connect to localhost:\(port)")
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw SocketError(description: "cannot send: \(String(cString: strerror(errno)))") }
    }
}
