import CIBridgeTop
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Fetches a bridge's `/metrics` over HTTP/1.1 (or HTTPS), one connection per
/// fetch (once a second is nothing for the bridge, and a fresh connection
/// notices a restarted bridge at once). SwiftNIO is already here for the
/// server; a whole HTTP client library for one GET would not pay its way.
struct MetricsFetcher: Sendable {
    let host: String
    let port: Int
    let path: String
    let timeout: TimeAmount
    /// For an `https://` URL (a bridge with `http.tls`): the client context.
    let tls: NIOSSLContext?

    /// `url`: `http(s)://HOST:PORT[/PATH]`, or `HOST:PORT` (as in `http.listen`).
    /// Without a path, `/metrics`. For `https://`, the server certificate is
    /// checked against `caFile` (PEM) or the system's trust store, and against
    /// the host (a name, or the address for an IP).
    init(url: String, caFile: String? = nil, timeout: TimeAmount = .seconds(2)) throws(TopError) {
        var rest = Substring(url)
        var secure = false
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst("https://".count)
            secure = true
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
        if secure {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let caFile { configuration.trustRoots = .file(caFile) }
            do {
                tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw TopError(.configuration, "--cacert \(caFile ?? "(system trust store)"): \(error)")
            }
        } else {
            if caFile != nil { throw TopError(.configuration, "--cacert applies to an https:// --url only") }
            tls = nil
        }
    }

    /// What `/metrics` says now.
    var description: String { "\(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

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
            .connect(host: host, port: port) { [tls, host] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        // SNI and name checks for a host name; for an address NIOSSL checks it against the certificate's IP names.
                        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: isAddress ? nil : host))
                    }
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
