import CIBridgeTop
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches a bridge's `/metrics` over plain HTTP/1.1, one connection per
/// fetch (once a second is nothing for the bridge, and a fresh connection
/// notices a restarted bridge at once). SwiftNIO is already here for the
/// server; a whole HTTP client library for one GET would not pay its way.
struct MetricsFetcher: Sendable {
    let host: String
    let port: Int
    let path: String
    let timeout: TimeAmount

    /// `url`: `http://HOST:PORT[/PATH]`, or `HOST:PORT` (as in `http.listen`).
    /// Without a path, `/metrics`.
    init(url: String, timeout: TimeAmount = .seconds(2)) throws(TopError) {
        var rest = Substring(url)
        if rest.hasPrefix("https://") {
            throw TopError(.configuration, "--url \(url): https is not supported; give the bridge's own http:// listener")
        }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw TopError(.configuration, "--url \(url): give http://HOST:PORT/metrics (the port is required)")
        }
        var host = String(authority[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty || host == "0.0.0.0" { host = "127.0.0.1" }
        self.host = host
        self.port = port
        self.path = path.isEmpty || path == "/" ? "/metrics" : String(path)
        self.timeout = timeout
    }

    /// What `/metrics` says now.
    var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

    /// The body of a 200 answer; anything else throws ``TopError/Kind/unreachable``.
    func fetch() async throws(TopError) -> String {
        do {
            return try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask { try await self.get() }
                group.addTask {
                    try await Task.sleep(for: .nanoseconds(self.timeout.nanoseconds))
                    throw TopError(.unreachable, "no answer within \(self.timeout.nanoseconds / 1_000_000) ms")
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch let error as TopError {
            throw error
        } catch {
            throw TopError(.unreachable, "\(error)")
        }
    }

    private func get() async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Accept", value: "text/plain")
            headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)))
            try await outbound.write(.end(nil))
            var status: HTTPResponseStatus?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = head.status
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end: return try Self.answer(status, body, path: path)
                }
            }
            return try Self.answer(status, body, path: path)
        }
    }

    private static func answer(_ status: HTTPResponseStatus?, _ body: ByteBuffer, path: String) throws -> String {
        guard let status else { throw TopError(.unreachable, "the connection closed before an answer") }
        guard status == .ok else { throw TopError(.unreachable, "\(path) answered \(status.code) \(status.reasonPhrase)") }
        return String(buffer: body)
    }
}
